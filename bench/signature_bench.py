"""Signature validation benchmark: pyHanko verdicts per PDF, by kind of file.

    .venv/bin/python -m bench.signature_bench [n]

Signs ``n`` rendered PDFs under a CA of our own (with and without a timestamp, one with a
second signature, one changed after signing) and times ``ingest.signatures.check_pdf`` on
each kind, and on unsigned PDFs (what most of an archive is).  Prints figures; asserts nothing.
"""
from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ingest.signatures import TrustStore, check_pdf
from specimens.signing import TestCA, render_pdf, sign_pdf


def _changed(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    extra = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (X) Tj ET"))
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), extra])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main(n: int = 30) -> None:
    ca = TestCA()
    official = ca.issue("Nguyễn Văn Hùng")
    tsa = ca.issue("TSA", timestamping=True)
    seal = ca.issue("UBND xã Tân Hưng")
    with tempfile.TemporaryDirectory() as tmp:
        trust = TrustStore.load(ca.write_roots(Path(tmp) / "roots.pem"))
        kinds: dict[str, list[bytes]] = {"unsigned": [], "signed": [], "signed+timestamp": [],
                                         "two signatures": [], "changed after signing": []}
        start = time.perf_counter()
        for i in range(n):
            pdf = render_pdf([f"QUYẾT ĐỊNH số {i}", "Về việc sắp xếp đơn vị hành chính"] * 10)
            signed = sign_pdf(pdf, ca, official)
            kinds["unsigned"].append(pdf)
            kinds["signed"].append(signed)
            kinds["signed+timestamp"].append(sign_pdf(pdf, ca, official, tsa=tsa))
            kinds["two signatures"].append(sign_pdf(signed, ca, seal, field_name="ChuKyCoQuan"))
            kinds["changed after signing"].append(_changed(signed))
        print(f"made {n} PDFs of each kind in {time.perf_counter() - start:.1f} s")
        for kind, files in kinds.items():
            times, statuses = [], set()
            for data in files:
                t0 = time.perf_counter()
                statuses.add(check_pdf(data, trust).status)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"{kind:24s} median {statistics.median(times):6.1f} ms  max {max(times):6.1f} ms  "
                  f"({len(files) / (sum(times) / 1000):5.0f} files/s)  verdicts {sorted(statuses)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
