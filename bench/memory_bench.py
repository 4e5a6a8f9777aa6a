"""Peak memory of ``archive ingest`` on a large package (≥ 1 GB) next to a small one; and memory over
time of an ingest of many small documents (``--many``: BENCH_MANY_DOCS, default 10,000).

    .venv/bin/python -m bench.memory_bench [--many [workdir]]

The large package holds born-digital PDFs that each embed an incompressible
scan-sized image beside their text layer, so it is big without needing hours
of OCR. Each ingest runs as its own ``archive ingest`` process; the peak RSS
reported is that of the largest process of the run (coordinator or worker).
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from bench.procfs import process_stats
from specimens import find_fonts, make_specimens

from tests.ingest.packaging import row_for, write_package


def _noise_jpeg(rng: random.Random, side: int = 1400) -> bytes:
    image = Image.frombytes("L", (side, side), rng.randbytes(side * side))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _heavy_pdf(path: Path, spec, picture: Path, font: str) -> None:
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont(font, 11)
    y = 800
    for line in [spec.issuer, f"Số: {spec.number}", spec.doc_type.upper(), spec.subject, *spec.body_paragraphs]:
        page.drawString(50, y, line[:110])
        y -= 16
    page.drawImage(str(picture), 50, 60, width=480, height=480)  # a JPEG file path is embedded as is
    page.save()


def build_package(root: Path, target_bytes: int, seed: int = 5) -> tuple[Path, int]:
    if (root / "bagit.txt").exists():
        return root, sum(p.stat().st_size for p in (root / "data" / "files").iterdir())
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from reportlab import rl_config

    rl_config.useA85 = 0  # pure-Python ASCII85 of 1 GB of images would take an hour; raw bytes are valid PDF
    regular, _, _ = find_fonts()
    pdfmetrics.registerFont(TTFont("BenchFont", regular))
    rng = random.Random(seed)
    (root / "files").mkdir(parents=True, exist_ok=True)
    specs = make_specimens(200, seed=seed, issuer="UBND huyện Tiên Lữ")
    pictures = []  # incompressible; each PDF still differs by its text
    for number in range(8):
        pictures.append(root / f"noise-{number}.jpg")
        pictures[-1].write_bytes(_noise_jpeg(rng))
    rows, total, index = [], 0, 0
    while total < target_bytes:
        spec = specs[index % len(specs)]
        index += 1
        name = f"files/{index:05d}.pdf"
        _heavy_pdf(root / name, spec, pictures[index % len(pictures)], "BenchFont")
        total += (root / name).stat().st_size
        rows.append(row_for(spec, f"BIG-{index}", name))
    for picture in pictures:
        picture.unlink()
    return write_package(root, rows, unit_code="12523"), total


def _group_rss_kb(group: int) -> tuple[int, int]:
    """(sum, largest) resident set of every live process in process group ``group``, in KiB."""
    total = largest = 0
    for pid, fields in process_stats():
        if int(fields[2]) != group:  # pgrp
            continue
        try:
            with open(f"/proc/{pid}/status") as handle:
                rss = next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


def ingest_peak(home: Path, package: Path, workers: int) -> dict:
    """Run ``archive ingest`` and sample the memory of all its processes every 50 ms."""
    env = {**os.environ, "ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "archive_portal.cli", "ingest", "--quiet", "--workers", str(workers), str(package)],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    peak_total = peak_single = 0
    while process.poll() is None:
        total, largest = _group_rss_kb(process.pid)
        peak_total, peak_single = max(peak_total, total), max(peak_single, largest)
        time.sleep(0.05)
    if process.returncode != 0:
        raise RuntimeError(f"archive ingest failed with {process.returncode}")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_all_processes_mb": round(peak_total / 1024, 1),
        "peak_rss_largest_process_mb": round(peak_single / 1024, 1),
    }


def run(workdir: Path, gigabytes: float, workers: int) -> dict:
    small, small_bytes = build_package(workdir / "small", 20 * 1024 * 1024, seed=6)
    small_run = ingest_peak(workdir / "home-small", small, workers)
    started = time.perf_counter()
    big, big_bytes = build_package(workdir / "big", int(gigabytes * 1024**3))
    built = time.perf_counter() - started
    big_run = ingest_peak(workdir / "home-big", big, workers)
    return {
        "small_package_mb": round(small_bytes / 1024**2, 1),
        "small_ingest": small_run,
        "big_package_mb": round(big_bytes / 1024**2, 1),
        "big_package_build_s": round(built, 1),
        "big_ingest": big_run,
        "big_ingest_mb_per_s": round(big_bytes / 1024**2 / big_run["seconds"], 1),
    }


# -- many small documents: memory over time -------------------------------------------------------
def _ascii(text: str) -> str:
    """Latin-1 safe text for the PDF's standard font (the letters without their tones)."""
    import unicodedata

    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in folded if not unicodedata.combining(c)).encode("latin-1", "replace").decode("latin-1")


def _pdf_string(text: str) -> bytes:
    return b"(" + _ascii(text).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1") + b")"


def small_pdf(spec, serial: int) -> bytes:
    """A one-page letter with a text layer (header in two columns, title, body, signer), written directly:
    a few hundred microseconds, not a typesetter's milliseconds, so 10,000 take seconds."""
    lines: list[tuple[float, float, float, str]] = [  # x, y, size, text
        (60, 800, 10, spec.issuer.upper()),
        (330, 800, 10, "CONG HOA XA HOI CHU NGHIA VIET NAM"),
        (60, 785, 10, f"So: {serial}-{spec.number}"),
        (350, 785, 10, "Doc lap - Tu do - Hanh phuc"),
        (330, 765, 10, spec.date_line),
        (250, 730, 13, spec.doc_type.upper()),
        (120, 712, 11, spec.subject[:90]),
    ]
    y = 680.0
    for paragraph in spec.body_paragraphs[:6]:
        for start in range(0, min(len(paragraph), 400), 95):
            lines.append((60, y, 11, paragraph[start : start + 95]))
            y -= 15
    lines += [
        (360, y - 20, 11, spec.signer_title.upper()),
        (370, y - 80, 11, spec.signer),
        (60, y - 20, 10, "Noi nhan:"),
        (60, y - 35, 10, f"- Luu: VT ({serial})"),
    ]
    content = b"".join(
        b"BT /F1 %.1f Tf %.1f %.1f Td %s Tj ET\n" % (size, x, y, _pdf_string(text)) for x, y, size, text in lines
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def build_many(root: Path, documents: int, seed: int = 7) -> Path:
    """A bag of ``documents`` one-page letters, written one at a time (nothing held but the spec list)."""
    import csv

    import bagit

    from tests.ingest.packaging import COLUMNS

    if (root / "bagit.txt").exists():
        return root
    specs = make_specimens(200, seed=seed, issuer="UBND xã Tân Hưng")
    (root / "files").mkdir(parents=True, exist_ok=True)
    with open(root / "documents.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for serial in range(1, documents + 1):
            spec = specs[serial % len(specs)]
            name = f"files/{serial // 1000:03d}/{serial:06d}.pdf"
            (root / name).parent.mkdir(exist_ok=True)
            (root / name).write_bytes(small_pdf(spec, serial))
            row = row_for(spec, f"NHIEU-{serial}", name, so_ky_hieu=f"{serial}-{spec.number}")
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    bagit.make_bag(
        str(root),
        bag_info={
            "Source-Organization": "UBND xã Tân Hưng",
            "Unit-Code": "12523",
            "Unit-Level": "xa",
            "Parent-Unit-Code": "330",
            "Export-Date": "2025-06-28",
        },
        checksums=["sha256"],
        processes=2,
    )
    return root


def _rss_kb(pid: int, field: str = "VmRSS:") -> int:
    """``VmRSS`` of ``pid`` in KiB; ``RssAnon:`` is the heap alone (without mapped database and index pages)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith(field)), 0)
    except OSError:
        return 0


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the pool's processes are the forkserver's children, not the run's)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found.extend(frontier)
    return found


def _progress(home: Path) -> tuple[int, int, str]:
    """(documents registered, documents indexed, the package's status) as the database says (read-only,
    beside the run); the status is ``done`` once the outcomes are recorded (the report is written next)."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{home / 'archive.sqlite'}?mode=ro", uri=True, timeout=1) as db:
            registered, indexed = db.execute("SELECT count(*), count(indexed_at) FROM document").fetchone()
            status = db.execute("SELECT status FROM package ORDER BY id DESC LIMIT 1").fetchone()
        return registered, indexed, status[0] if status else ""
    except sqlite3.Error:
        return 0, 0, ""


def _phase(registered: int, indexed: int, status: str) -> str:
    """Where the run is: storing and registering, extracting (documents left to index), finishing (all
    indexed: the last index commit and the outcomes), reporting (outcomes recorded, the report written)."""
    if status == "done":
        return "report"
    if not registered:
        return "register"
    return "extract" if indexed < registered else "finish"


def ingest_timeline(home: Path, package: Path, workers: int, every: float = 0.5) -> dict:
    """Run ``archive ingest`` and sample, every ``every`` s, the RSS of its main process (the loop that
    claims, saves and indexes) and of its largest pool process, with the documents done so far."""
    env = {**os.environ, "ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "archive_portal.cli", "ingest", "--quiet", "--workers", str(workers), str(package)],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    samples = []
    while process.poll() is None:
        pool = [_rss_kb(child) for child in _children(process.pid)]
        registered, indexed, status = _progress(home)
        samples.append(
            {
                "s": round(time.perf_counter() - started, 1),
                "main_mb": round(_rss_kb(process.pid) / 1024, 1),
                "main_anon_mb": round(_rss_kb(process.pid, "RssAnon:") / 1024, 1),
                "pool_max_mb": round(max(pool, default=0) / 1024, 1),
                "registered": registered,
                "indexed": indexed,
                "phase": _phase(registered, indexed, status),
            }
        )
        time.sleep(every)
    if process.returncode != 0:
        raise RuntimeError(f"archive ingest failed with {process.returncode}")
    seconds = time.perf_counter() - started
    samples = [s for s in samples if s["main_mb"]]  # not one taken as the process ended
    registered, indexed, _ = _progress(home)
    return {
        "seconds": round(seconds, 1),
        "documents": registered,
        "indexed": indexed,
        "documents_per_s": round(indexed / seconds, 1),
        "samples": samples,
    }


def _quarter_points(samples: list[dict]) -> dict:
    """Samples at the start, middle and end of the extraction (by documents indexed), and the peaks."""
    working = [s for s in samples if s["registered"]] or samples
    if not working:
        return {}
    last = working[-1]
    picks = {
        "start": working[0],
        "quarter": working[len(working) // 4],
        "middle": working[len(working) // 2],
        "three_quarters": working[3 * len(working) // 4],
        "end": last,
    }
    return {
        **picks,
        "peak_main_mb": max(s["main_mb"] for s in samples),
        "peak_main_anon_mb": max(s["main_anon_mb"] for s in samples),
        "peak_pool_mb": max(s["pool_max_mb"] for s in samples),
        "phases": _phases(samples),
    }


def _phases(samples: list[dict]) -> dict:
    """For each phase of the run (``_phase``): seconds sampled, and the main process's heap (RssAnon) at its
    first and last sample and its peak; ``end_over_extraction_mb``: how much higher the heap went once
    every document was indexed (last index commit, outcomes, report) than during the extraction."""
    phases: dict[str, dict] = {}
    for sample in samples:
        phase = sample.get("phase", "")
        seen = phases.setdefault(
            phase, {"from_s": sample["s"], "first_heap_mb": sample["main_anon_mb"], "peak_heap_mb": 0.0}
        )
        seen.update(
            to_s=sample["s"],
            last_heap_mb=sample["main_anon_mb"],
            peak_heap_mb=max(seen["peak_heap_mb"], sample["main_anon_mb"]),
        )
    extraction = phases.get("extract", {}).get("peak_heap_mb")
    end = max((phases[p]["peak_heap_mb"] for p in ("finish", "report") if p in phases), default=None)
    if extraction is not None and end is not None:
        phases["end_over_extraction_mb"] = round(end - extraction, 1)
    return phases


def run_many(workdir: Path, documents: int, workers: int) -> dict:
    started = time.perf_counter()
    package = build_many(workdir / f"many-{documents}", documents)
    built = time.perf_counter() - started
    timeline = ingest_timeline(workdir / f"home-many-{time.time_ns()}", package, workers)
    samples = timeline["samples"]
    (workdir / "rss-timeline.json").write_text(json.dumps(samples))
    from archive_core.settings import Settings

    engine = Settings.load(home=workdir / "settings-probe").index_engine
    return {
        "documents": documents,
        "engine": engine,
        "package_build_s": round(built, 1),
        "workers": workers,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "ingest_seconds": timeline["seconds"],
        "indexed": timeline["indexed"],
        "documents_per_s": timeline["documents_per_s"],
        "rss": _quarter_points(samples),
        "samples": samples,
        "timeline": [samples[i * (len(samples) - 1) // 12] for i in range(13)] if samples else [],
    }


def summary_many(m: dict) -> list[str]:
    r = m["rss"]
    points = ", ".join(
        f"{k} {r[k]['main_mb']} MB, heap {r[k]['main_anon_mb']} MB ({r[k]['indexed']} indexed)"
        for k in ("start", "quarter", "middle", "three_quarters", "end")
        if k in r
    )
    return [
        f"{m['documents']} documents ({m.get('engine')} index): {m['ingest_seconds']} s, {m['documents_per_s']} documents/s; "
        f"main process RSS {points}; peak main {r.get('peak_main_mb')} MB (heap "
        f"{r.get('peak_main_anon_mb')} MB), largest pool process "
        f"{r.get('peak_pool_mb')} MB (load average {m['load_average']})",
        "  main heap by phase (peak; first -> last): "
        + "; ".join(
            f"{name} {p['from_s']}-{p['to_s']} s: {p['peak_heap_mb']} MB ({p['first_heap_mb']} -> {p['last_heap_mb']})"
            for name, p in r.get("phases", {}).items()
            if isinstance(p, dict)
        )
        + f"; end over extraction {r.get('phases', {}).get('end_over_extraction_mb')} MB",
        "  timeline (s: main RSS / main heap / largest pool RSS, registered, indexed): "
        + "; ".join(
            f"{t['s']}: {t['main_mb']}/{t['main_anon_mb']}/{t['pool_max_mb']} MB {t['registered']} {t['indexed']}"
            for t in m.get("timeline", [])
        ),
    ]


if __name__ == "__main__":
    import tempfile

    workers = int(os.environ.get("BENCH_WORKERS", os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        if "--many" in sys.argv:
            many = run_many(
                Path(sys.argv[-1]) if len(sys.argv) > 2 else Path(tmp),
                int(os.environ.get("BENCH_MANY_DOCS", "10000")),
                workers,
            )
            print(json.dumps({k: v for k, v in many.items() if k != "samples"}, ensure_ascii=False, indent=2))
            print("\n".join(summary_many(many)))
        else:
            print(json.dumps(run(Path(tmp), float(os.environ.get("BENCH_BIG_PACKAGE_GB", "1")), workers), indent=2))
