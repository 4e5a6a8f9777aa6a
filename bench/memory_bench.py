"""Peak memory of ``archive ingest`` on a large package (≥ 1 GB) next to a small one.

The large package holds born-digital PDFs that each embed an incompressible
scan-sized image beside their text layer, so it is big without needing hours
of OCR. Each ingest runs as its own ``archive ingest`` process; the peak RSS
reported is that of the largest process of the run (coordinator or worker).
"""
from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

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
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:  # pgrp
                continue
            with open(f"/proc/{entry}/status") as handle:
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
    process = subprocess.Popen([sys.executable, "-m", "archive_portal.cli", "ingest", "--quiet", "--workers",
                                str(workers), str(package)], env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    peak_total = peak_single = 0
    while process.poll() is None:
        total, largest = _group_rss_kb(process.pid)
        peak_total, peak_single = max(peak_total, total), max(peak_single, largest)
        time.sleep(0.05)
    if process.returncode != 0:
        raise RuntimeError(f"archive ingest failed with {process.returncode}")
    return {"seconds": round(time.perf_counter() - started, 1), "peak_rss_all_processes_mb": round(peak_total / 1024, 1),
            "peak_rss_largest_process_mb": round(peak_single / 1024, 1)}


def run(workdir: Path, gigabytes: float, workers: int) -> dict:
    small, small_bytes = build_package(workdir / "small", 20 * 1024 * 1024, seed=6)
    small_run = ingest_peak(workdir / "home-small", small, workers)
    started = time.perf_counter()
    big, big_bytes = build_package(workdir / "big", int(gigabytes * 1024 ** 3))
    built = time.perf_counter() - started
    big_run = ingest_peak(workdir / "home-big", big, workers)
    return {
        "small_package_mb": round(small_bytes / 1024 ** 2, 1), "small_ingest": small_run,
        "big_package_mb": round(big_bytes / 1024 ** 2, 1), "big_package_build_s": round(built, 1),
        "big_ingest": big_run, "big_ingest_mb_per_s": round(big_bytes / 1024 ** 2 / big_run["seconds"], 1),
    }


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        print(json.dumps(run(Path(tmp), float(os.environ.get("BENCH_BIG_PACKAGE_GB", "1")),
                             int(os.environ.get("BENCH_WORKERS", os.cpu_count() or 1))), indent=2))
