"""Ingest against its raw tools, on the same pages, in one run (issue 11, item 4).

    .venv/bin/python -m bench.ingest_ratio [n_pdf] [n_scan] [workdir]

* born-digital: ``archive ingest``'s pipeline (hash, store, text, metadata,
  database and index included) on a bag of generated letters, against bare
  pypdfium2 text extraction of the same PDFs, each side with one process per
  core (``workers``); the raw side is also given in one process.  The raw side
  is measured before and after the ingest and averaged (the machine is shared).
* scanned: the same pipeline on a bag of scans (image-only PDFs), against the
  ``tesseract`` command on the same pages rendered as ingest renders them
  (greyscale, the archive's OCR dpi), ``OMP_THREAD_LIMIT=1``, one process per
  core on both sides; the raw side before and after the ingest, averaged.
  48 scans by default: a package's fixed costs (bag check, pool start, report;
  ~3 s) weigh on a dozen pages (12 scans: 0.64 by wall, 48: 0.90, same code).

The load average is printed with the figures: on a machine shared with other
work, the ratio (both sides in the same minutes) means more than either speed.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import ingest_bench
from bench.extract_bench import raw_text_pages
from bench.procfs import process_stats

LANGUAGES = "vie"
_TICK = os.sysconf("SC_CLK_TCK")


def _descendant_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of every live descendant of this process, by pid (from /proc)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for pid, fields in process_stats():
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    me, mine = os.getpid(), {}
    for pid in cpu:
        ancestor = parents.get(pid)
        while ancestor and ancestor != me:
            ancestor = parents.get(ancestor)
        if ancestor == me:
            mine[pid] = cpu[pid]
    return mine


class CpuMeter:
    """CPU seconds of this process (all its threads) and of its descendants (pool processes, the
    forkserver's children included) while the block runs.  Descendants are sampled every 50 ms, so
    the last moments of one that ends are missed (a slight undercount)."""

    def __enter__(self) -> CpuMeter:
        self._before = _descendant_cpu()
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._own = time.process_time()
        self._thread.start()
        return self

    def _sample(self) -> None:
        while True:
            self._seen.update(_descendant_cpu())
            if self._stop.wait(0.05):
                return

    def __exit__(self, *_exc) -> None:
        self.own = time.process_time() - self._own
        self._stop.set()
        self._thread.join()
        self._seen.update(_descendant_cpu())
        self.children = sum(v - self._before.get(pid, 0.0) for pid, v in self._seen.items())
        self.seconds = self.own + self.children


def raw_pdfium(paths: list[Path], processes: int) -> dict:
    """Pages/s of bare pypdfium2 text extraction of ``paths`` in ``processes`` processes (started beforehand)."""
    names = [str(p) for p in paths]
    if processes <= 1:
        with CpuMeter() as cpu:
            started = time.perf_counter()
            pages = raw_text_pages(names)
            seconds = time.perf_counter() - started
    else:
        chunks = [names[i::processes] for i in range(processes)]
        with cf.ProcessPoolExecutor(max_workers=processes) as pool:
            list(pool.map(raw_text_pages, [[] for _ in range(processes)]))  # the processes are up before timing
            with CpuMeter() as cpu:
                started = time.perf_counter()
                pages = sum(pool.map(raw_text_pages, chunks))
                seconds = time.perf_counter() - started
    return {
        "processes": processes,
        "pages": pages,
        "seconds": round(seconds, 3),
        "pages_per_s": pages / seconds,
        "cpu_s": round(cpu.seconds, 2),
    }


def render_pages(pdfs: list[Path], out: Path, dpi: int) -> list[Path]:
    """Every page of ``pdfs`` as ingest renders it for OCR (greyscale PNG at ``dpi``); not timed."""
    import pypdfium2 as pdfium

    from archive_core.pages import render_pdf_page

    out.mkdir(parents=True, exist_ok=True)
    pngs = []
    for number, path in enumerate(pdfs):
        pdf = pdfium.PdfDocument(path)
        for index in range(len(pdf)):
            page = pdf[index]
            image = render_pdf_page(page, dpi, max_pixels=120_000_000).image
            page.close()
            pngs.append(out / f"{number:05d}-{index:03d}.png")
            image.save(pngs[-1], dpi=(dpi, dpi))
        pdf.close()
    return pngs


def _tesseract(png: Path) -> None:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    subprocess.run(
        ["tesseract", str(png), "stdout", "-l", LANGUAGES, "--oem", "1", "--psm", "3"],
        capture_output=True,
        env=env,
        check=True,
        # as the archive runs it (archive_core.programs): a session of its own, so, where the kernel groups
        # tasks by session (autogroup), each side's tesseract processes get the same share of a busy machine
        start_new_session=True,
    )


def raw_tesseract(pngs: list[Path], processes: int) -> dict:
    """Pages/s of the ``tesseract`` command on ``pngs``, ``processes`` at a time, one thread each."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=processes) as pool:  # each thread drives one process
        list(pool.map(_tesseract, pngs))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the tesseract processes, each waited for
    return {
        "processes": processes,
        "pages": len(pngs),
        "seconds": round(seconds, 2),
        "pages_per_s": len(pngs) / seconds,
        "cpu_s": after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime,
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(workdir: Path, n_pdf: int, n_scan: int, workers: int) -> dict:
    from archive_core.settings import Settings

    settings = Settings.load(home=workdir / "settings-probe")
    figures: dict[str, object] = {
        "cores": os.cpu_count(),
        "workers": workers,
        "engine": settings.index_engine,
        "load_average_start": _load(),
    }
    bags = ingest_bench.build_bags(workdir / "bags", n_pdf, n_scan)
    if n_pdf:
        bag = bags["born_digital"][0]
        pdfs = sorted((bag / "data" / "files").glob("*.pdf"))
        before = raw_pdfium(pdfs, workers)
        one = raw_pdfium(pdfs, 1)
        cpu = CpuMeter()
        ingest = ingest_bench.ingest_kind(workdir / f"home-born-{time.time_ns()}", bag, workers, meter=cpu)
        after = raw_pdfium(pdfs, workers)
        raw = (before["pages_per_s"] + after["pages_per_s"]) / 2
        raw_cpu = (before["cpu_s"] + after["cpu_s"]) / 2
        figures["born_digital"] = {
            "documents": ingest["documents"],
            "pages": ingest["pages"],
            "ingest_seconds": round(ingest["seconds"], 2),
            "ingest_pages_per_s": round(ingest["pages_per_s"], 1),
            "raw_pdfium_pages_per_s": round(raw, 1),
            "raw_pdfium_pages_per_s_one_process": round(one["pages_per_s"], 1),
            "ratio": round(ingest["pages_per_s"] / raw, 3),
            "ratio_vs_one_raw_process": round(ingest["pages_per_s"] / one["pages_per_s"], 3),
            # CPU seconds, every process and thread of each side (the ingest's: ``ingest_package`` alone,
            # its pool processes sampled every 50 ms)
            "ingest_cpu_s": round(cpu.seconds, 2),
            "ingest_cpu_s_main_process": round(cpu.own, 2),
            "raw_pdfium_cpu_s": round(raw_cpu, 2),
            "cpu_ratio": round(raw_cpu / cpu.seconds, 3) if cpu.seconds else None,
        }
    if n_scan:
        bag = bags["scanned"][0]
        scans = sorted((bag / "data" / "files").glob("*.pdf"))
        pngs = render_pages(scans, workdir / "scan-pages", settings.ocr_dpi)
        before = raw_tesseract(pngs, workers)
        cpu = CpuMeter()
        ingest = ingest_bench.ingest_kind(workdir / f"home-scan-{time.time_ns()}", bag, workers, meter=cpu)
        after = raw_tesseract(pngs, workers)
        raw_cpu = (before["cpu_s"] + after["cpu_s"]) / 2
        raw_speed = (before["pages_per_s"] + after["pages_per_s"]) / 2
        figures["scanned"] = {
            "documents": ingest["documents"],
            "pages": ingest["pages"],
            "raw_pages": before["pages"],
            "dpi": settings.ocr_dpi,
            "ingest_seconds": round(ingest["seconds"], 1),
            "ingest_pages_per_s": round(ingest["pages_per_s"], 3),
            "raw_tesseract_pages_per_s": round(raw_speed, 3),
            "raw_tesseract_pages_per_s_before_after": [round(before["pages_per_s"], 3), round(after["pages_per_s"], 3)],
            "ratio": round(ingest["pages_per_s"] / raw_speed, 3),
            # CPU seconds of each side: the tesseract processes alone | ingest_package and every descendant
            # (its tesseract processes included, sampled every 50 ms: a slight undercount)
            "raw_tesseract_cpu_s": round(raw_cpu, 2),
            "ingest_cpu_s": round(cpu.seconds, 2),
            "cpu_ratio": round(raw_cpu / cpu.seconds, 3) if cpu.seconds else None,
        }
    figures["load_average_end"] = _load()
    return figures


def summary(f: dict) -> list[str]:
    lines = [
        f"ingest vs raw tools ({f['workers']} processes each side, engine {f['engine']}, "
        f"load average {f['load_average_start']} -> {f['load_average_end']}):"
    ]
    if "born_digital" in f:
        b = f["born_digital"]
        lines.append(
            f"  born-digital: ingest {b['ingest_pages_per_s']} pages/s | raw pypdfium2 {b['raw_pdfium_pages_per_s']} "
            f"pages/s -> ratio {b['ratio']} (target >= 0.5); vs one raw process "
            f"({b['raw_pdfium_pages_per_s_one_process']} pages/s): {b['ratio_vs_one_raw_process']}"
        )
        lines.append(
            f"  born-digital CPU: ingest {b['ingest_cpu_s']} s (main process {b['ingest_cpu_s_main_process']} s) | "
            f"raw pypdfium2 {b['raw_pdfium_cpu_s']} s -> raw/ingest {b['cpu_ratio']}"
        )
    if "scanned" in f:
        s = f["scanned"]
        lines.append(
            f"  OCR: ingest {s['ingest_pages_per_s']} pages/s | raw tesseract {s['raw_tesseract_pages_per_s']} pages/s "
            f"(before/after {s['raw_tesseract_pages_per_s_before_after']}; {s['dpi']} dpi, OMP_THREAD_LIMIT=1) -> ratio {s['ratio']} (target >= 0.9)"
        )
        lines.append(
            f"  OCR CPU: ingest {s['ingest_cpu_s']} s | raw tesseract {s['raw_tesseract_cpu_s']} s "
            f"-> raw/ingest {s['cpu_ratio']}"
        )
    return lines


def main(argv: list[str]) -> None:
    n_pdf = int(argv[1]) if len(argv) > 1 else 300
    n_scan = int(argv[2]) if len(argv) > 2 else 48
    workers = int(os.environ.get("BENCH_WORKERS", os.cpu_count() or 1))
    if len(argv) > 3:
        figures = run(Path(argv[3]), n_pdf, n_scan, workers)
    else:
        with tempfile.TemporaryDirectory(prefix="ingest-ratio-") as tmp:
            figures = run(Path(tmp), n_pdf, n_scan, workers)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    print("\n".join(summary(figures)))


if __name__ == "__main__":
    main(sys.argv)
