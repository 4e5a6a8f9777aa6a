"""Backup, verify and restore times on a data home of at least ``BENCH_BACKUP_GB`` GiB.

The home is filled through the real pipeline, quickly: every file is a valid
born-digital PDF (a rendered specimen, so text extraction needs no OCR) with a
large photograph-like image on its first page (random noise, JPEG: it does not
compress), so a few hundred files make a gigabyte.  Each image carries a
unique JPEG comment, so no two files share a hash.

Measured: the first backup (everything copied), a second one with nothing new,
a third after a small new package, full and quick ``verify``, and a restore
into an empty home.  Run alone with ``python -m bench.backup_bench``.
"""
from __future__ import annotations

import io
import json
import os
import struct
import time
from pathlib import Path

from archive_core.context import Archive
from archive_ops.backup import backup
from archive_ops.restore import restore
from archive_portal.services.units import import_mapping
from archive_ops.verify import verify
from archive_core.settings import Settings
from ingest.pipeline import IngestOptions, ingest_package
from specimens import make_specimens, render_pdf_bytes

from tests.ingest.packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parent.parent / "archive_core" / "data" / "units-hung-yen-2025.csv"
IMAGE_SIDE = 2400  # noise JPEG of about 7 MB


def _noise_jpeg(side: int = IMAGE_SIDE) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _with_comment(jpeg: bytes, text: str) -> bytes:
    """The same JPEG with a COM segment right after SOI: still a valid JPEG, different bytes."""
    payload = text.encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _bulky_pdf(spec, jpeg: bytes) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(render_pdf_bytes(spec, 2))
    try:
        page = pdf[0]
        image = pdfium.PdfImage.new(pdf)
        image.load_jpeg(io.BytesIO(jpeg), inline=False)
        image.set_matrix(pdfium.PdfMatrix().scale(90, 90).translate(470, 20))
        page.insert_obj(image)
        page.gen_content()
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()
    finally:
        pdf.close()


def build_bag(root: Path, target_bytes: int, *, unit: str = "11950", prefix: str = "BK", seed: int = 21) -> tuple[Path, int]:
    """A bag of bulky PDFs totalling at least ``target_bytes``; returns it and its payload size."""
    jpeg = _noise_jpeg()
    count = max(1, -(-target_bytes // (len(jpeg) + 30_000)))
    specs = make_specimens(count, seed=seed, issuer="UBND phường Lam Sơn", year=2023)
    (root / "files").mkdir(parents=True)
    rows, total = [], 0
    for index, spec in enumerate(specs, start=1):
        name = f"files/{prefix}-{index:05d}.pdf"
        data = _bulky_pdf(spec, _with_comment(jpeg, f"{prefix}-{index}-{seed}"))
        (root / name).write_bytes(data)
        total += len(data)
        rows.append(row_for(spec, f"{prefix}-{index}", name))
    return write_package(root, rows, unit_code=unit), total


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _timed(work):
    started = time.perf_counter()
    value = work()
    return value, round(time.perf_counter() - started, 2)


def run(workdir: Path, gigabytes: float, workers: int) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    target = int(gigabytes * 1024 ** 3)
    (bag, payload), build_s = _timed(lambda: build_bag(workdir / "bag", target))
    settings = Settings.load(home=workdir / "home", workers=workers)
    archive = Archive.open(settings)
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    _, ingest_s = _timed(lambda: ingest_package(archive, bag, IngestOptions(workers=workers)))
    home_bytes = _size(settings.home)
    dest = workdir / "backups"
    first, first_s = _timed(lambda: backup(archive, dest))
    second, second_s = _timed(lambda: backup(archive, dest))
    small, _ = build_bag(workdir / "bag-small", 40 * 1024 ** 2, unit="11956", prefix="NEW", seed=22)
    ingest_package(archive, small, IngestOptions(workers=workers))
    third, third_s = _timed(lambda: backup(archive, dest, keep=3, with_index=True))
    full, full_s = _timed(lambda: verify(archive, workers=2))
    quick, quick_s = _timed(lambda: verify(archive, quick=True))
    archive.close()
    restored, restore_s = _timed(lambda: restore(dest, Settings.load(home=workdir / "restored", workers=workers)))
    gib = home_bytes / 1024 ** 3
    return {
        "home_gib": round(gib, 3), "originals": full.counts["originals"], "documents": full.counts["documents"],
        "build_bag_s": build_s, "ingest_s": ingest_s,
        "backup_first_s": first_s, "backup_first_copied": first.objects_copied,
        "backup_first_mib_per_s": round(first.bytes_copied / 1024 ** 2 / first_s, 1) if first_s else None,
        "backup_unchanged_s": second_s, "backup_unchanged_copied": second.objects_copied,
        "backup_after_small_package_s": third_s, "backup_after_small_package_copied": third.objects_copied,
        "verify_full_s": full_s, "verify_full_ok": full.ok,
        "verify_full_mib_per_s": round(full.counts["bytes_hashed"] / 1024 ** 2 / full_s, 1) if full_s else None,
        "verify_quick_s": quick_s, "verify_quick_ok": quick.ok,
        "restore_s": restore_s, "restore_index": restored.index,
    }


def summary(f: dict) -> list[str]:
    return [
        f"backup on a {f['home_gib']} GiB home ({f['originals']} originals): first {f['backup_first_s']} s "
        f"({f['backup_first_mib_per_s']} MiB/s), nothing new {f['backup_unchanged_s']} s "
        f"({f['backup_unchanged_copied']} copied), after a small package {f['backup_after_small_package_s']} s "
        f"({f['backup_after_small_package_copied']} copied, with index)",
        f"verify: full {f['verify_full_s']} s ({f['verify_full_mib_per_s']} MiB/s re-hashed, ok={f['verify_full_ok']}), "
        f"quick {f['verify_quick_s']} s; restore {f['restore_s']} s (index {f['restore_index']})",
    ]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="archive-backup-bench-") as tmp:
        figures = run(Path(tmp), float(os.environ.get("BENCH_BACKUP_GB", "1")),
                      int(os.environ.get("BENCH_WORKERS", os.cpu_count() or 1)))
    print(json.dumps(figures, indent=2))
    print("\n".join(summary(figures)))
