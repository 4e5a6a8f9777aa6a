"""Where a born-digital ingest spends its time, stage by stage, against raw pypdfium2 on the same pages.

    .venv/bin/python -m bench.ingest_profile [n_pdf] [workdir] [--cprofile FILE]
    BENCH_PROFILE_POOL=2 ...   (extraction in a real pool of 2 processes: the main process's stages only)

The package's files are extracted in this process, one after the other (an
executor that runs each job at once), so the stages add up to the wall time
and compare with raw pypdfium2 text extraction in one process.  Each stage is
timed by wrapping the function the pipeline calls (inclusive times; nested
stages are indented).  The code measured is the ``ingest`` package first on
``sys.path``: run it with ``PYTHONPATH=<another tree>`` to profile that tree's
ingest with the same pages, e.g. the commit before a change.  Prints figures;
asserts nothing about time.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench import ingest_bench
from bench.extract_bench import _pdfium_pages_per_s

# (module, attribute, stage name, depth): what the pipeline calls, wrapped where it is looked up.
STAGES = [
    ("ingest.pipeline", "open_package", "open package (manifest, bag check)", 0),
    ("ingest.pipeline", "find_or_create_package", "package record", 0),
    ("ingest.pipeline", "keep_package_manifests", "store manifests", 0),
    ("ingest.pipeline", "store_payload", "store originals (hash, copy, Blob rows)", 0),
    ("ingest.pipeline", "register_rows", "register rows (Document, DocumentFile)", 0),
    ("ingest.pipeline", "register_unreferenced_files", "register unreferenced files", 0),
    ("ingest.pipeline", "register_package_dossiers", "dossiers", 0),
    ("ingest.pipeline", "extract_pending", "extraction loop", 0),
    ("ingest.worker", "extract_job", "extract job (pool side)", 1),
    ("ingest.extract.job", "extract", "pypdfium2 text (our extractor)", 2),
    ("ingest.extract.job", "pdf_first_page_layout", "first-page layout", 2),
    ("ingest.claims", "claim_files", "claim files", 1),
    ("ingest.claims", "copy_known_extraction", "look for a twin", 1),
    ("ingest.claims", "save_extractions", "save pages (one transaction per batch)", 1),
    ("ingest.claims", "finalize_document", "metadata from text (finalize)", 2),
    ("ingest.pipeline", "index_ready", "index", 0),
    ("ingest.indexing", "check_unchecked", "signature check", 1),
    ("ingest.indexing", "index_document", "build index documents", 1),
    ("ingest.pipeline", "record_outcomes", "outcomes", 0),
    ("ingest.pipeline", "write_report", "report", 0),
]


class Inline(cf.Executor):
    """Runs each job when it is submitted, in this process (the pool's work, profiled and timed here)."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed back as the pool would
            future.set_exception(error)
        return future


def _instrument(totals: dict[str, float], counts: dict[str, int], pool: int = 0) -> list[str]:
    worker = importlib.import_module("ingest.worker")

    def executor(self):
        if self._pool is None:
            self._pool = Inline()
        return self._pool

    if not pool:
        worker.ExtractionLoop._executor = executor
    names = []
    for module_name, attribute, stage, depth in STAGES:
        if pool and module_name.startswith("ingest.extract") or (pool and attribute == "extract_job"):
            continue  # runs in the pool's processes (and a wrapper could not be sent there)
        module = importlib.import_module(module_name)
        original = getattr(module, attribute, None)
        if original is None:
            continue

        def timed(*args, __original=original, __stage=stage, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return __original(*args, **kwargs)
            finally:
                totals[__stage] += time.perf_counter() - started
                totals["cpu:" + __stage] += time.process_time() - cpu
                counts[__stage] += 1

        setattr(module, attribute, timed)
        names.append(("  " * depth) + stage)
    _time_engine_index(totals, counts)
    return names


def _time_engine_index(totals: dict[str, float], counts: dict[str, int]) -> None:
    from archive_core.context import Archive

    open_archive = Archive.open.__func__  # type: ignore[attr-defined]

    def opened(cls, *args, **kwargs):
        archive = open_archive(cls, *args, **kwargs)
        engine = archive.engine
        index = engine.index

        def timed_index(documents, *a, **k):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return index(documents, *a, **k)
            finally:
                totals["engine.index"] += time.perf_counter() - started
                totals["cpu:engine.index"] += time.process_time() - cpu
                counts["engine.index"] += 1

        engine.index = timed_index
        return archive

    Archive.open = classmethod(opened)  # type: ignore[method-assign]


def run(workdir: Path, n_pdf: int, *, cprofile: Path | None = None, pool: int = 0) -> dict:
    """``pool``: extract in that many pool processes, as ingest does (the pool's stages are not seen then)."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    names = _instrument(totals, counts, pool)
    bag = ingest_bench.build_bags(workdir / "bags", n_pdf, 0)["born_digital"][0]
    pdfs = sorted((bag / "data" / "files").glob("*.pdf"))
    raw_cpu = time.process_time()
    raw_before, pages = _pdfium_pages_per_s(pdfs)
    raw_cpu = time.process_time() - raw_cpu
    home = workdir / f"home-{time.time_ns()}"
    profiler = None
    if cprofile is not None:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
        profiler.enable()
    cpu = time.process_time()
    figures = ingest_bench.ingest_kind(home, bag, pool or 1)
    cpu = time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(cprofile))
    raw_cpu_after = time.process_time()
    raw_after, _ = _pdfium_pages_per_s(pdfs)
    raw_cpu = (raw_cpu + time.process_time() - raw_cpu_after) / 2
    raw = (raw_before + raw_after) / 2
    wall = figures["seconds"]
    stages = {}
    for name in [*names, "  engine.index"]:
        key = name.strip()
        stages[name] = {
            "s": round(totals.get(key, 0.0), 3),
            "cpu_s": round(totals.get("cpu:" + key, 0.0), 3),
            "calls": counts.get(key, 0),
            "ms_per_document": round(1000 * totals.get(key, 0.0) / max(n_pdf, 1), 2),
        }
    return {
        "ingest_module": importlib.import_module("ingest").__file__,
        "documents": figures["documents"],
        "pages": figures["pages"],
        "wall_s": round(wall, 2),
        "cpu_s_this_process": round(cpu, 2),  # the units' import, the archive's opening and closing included
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "ingest_pages_per_s": round(figures["pages_per_s"], 1),
        "raw_pdfium_pages_per_s": round(raw, 1),
        "raw_pdfium_pages": pages,
        "raw_pdfium_cpu_s": round(raw_cpu, 3),
        "ratio": round(figures["pages_per_s"] / raw, 3) if raw else None,
        "stages": stages,
    }


def print_stages(figures: dict) -> None:
    print(
        f"{figures['documents']} documents, {figures['pages']} pages in {figures['wall_s']} s "
        f"({figures['ingest_pages_per_s']} pages/s; raw pypdfium2 {figures['raw_pdfium_pages_per_s']} pages/s, "
        f"{figures['raw_pdfium_cpu_s']} s CPU; "
        f"ratio {figures['ratio']}) [{figures['ingest_module']}]; CPU {figures['cpu_s_this_process']} s in this "
        f"process; load average {figures['load_average']}"
    )
    for name, stage in figures["stages"].items():
        if stage["calls"]:
            print(
                f"  {name:<58} {stage['s']:>8.2f} s {stage['cpu_s']:>8.2f} s CPU {stage['ms_per_document']:>8.2f} ms/doc"
                f"  ({stage['calls']} calls)"
            )


def main(argv: list[str]) -> None:
    args = [a for a in argv[1:] if not a.startswith("--")]
    cprofile = Path(argv[argv.index("--cprofile") + 1]) if "--cprofile" in argv else None
    if cprofile is not None:
        args.remove(str(cprofile))
    n_pdf = int(args[0]) if args else 200
    pool = int(os.environ.get("BENCH_PROFILE_POOL", "0"))
    if len(args) > 1:
        figures = run(Path(args[1]), n_pdf, cprofile=cprofile, pool=pool)
    else:
        with tempfile.TemporaryDirectory(prefix="ingest-profile-") as tmp:
            figures = run(Path(tmp), n_pdf, cprofile=cprofile, pool=pool)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    print_stages(figures)


if __name__ == "__main__":
    main(sys.argv)
