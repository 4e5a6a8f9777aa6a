"""``archive worker`` on one and on two processes sharing one package: documents/s and the ratio.

    .venv/bin/python -m bench.worker_scaling [n_pdf] [workdir]

The package is registered first (``archive ingest --workers 0`` without its
wait: nothing extracted), untimed; then 1, then 2 ``archive worker --workers 1``
processes (each extracting in its own process, as on two machines) are started
on a fresh copy of that state, and the clock runs until every document is
indexed.  Born-digital letters by default (BENCH_SCALING_KIND=scanned for
scans).  The load average is printed: the machine's 2 cores are shared.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ingest_bench


def register_only(home: Path, bag: Path) -> int:
    """The package registered in ``home`` with nothing extracted; the number of documents."""
    import ingest.pipeline as pipeline
    from archive_core.context import Archive
    from archive_core.settings import Settings
    from archive_portal.services.units import import_mapping

    archive = Archive.open(Settings.load(home=home))
    with archive.db.transaction() as session:
        import_mapping(session, ingest_bench.UNITS_CSV)
    waiting = pipeline.wait_for_workers
    pipeline.wait_for_workers = lambda run: None  # register, do not wait for the workers
    try:
        pipeline.ingest_package(archive, bag, pipeline.IngestOptions(workers=0))
    finally:
        pipeline.wait_for_workers = waiting
        archive.close()
    return _counts(home)[0]


def _counts(home: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{home / 'archive.sqlite'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute("SELECT count(*), count(indexed_at) FROM document").fetchone()


def run_workers(home: Path, count: int, processes_each: int = 1, *, poll: float = 0.2) -> dict:
    env = {**os.environ, "ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    command = [sys.executable, "-m", "archive_portal.cli", "worker", "--workers", str(processes_each),
               "--idle-exit", "2"]
    total, _ = _counts(home)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(count)]
    try:
        indexed = 0
        while indexed < total and any(w.poll() is None for w in workers):
            time.sleep(poll)
            try:
                indexed = _counts(home)[1]
            except sqlite3.Error:
                continue
        seconds = time.perf_counter() - started
    finally:
        for w in workers:
            w.wait(timeout=120)
    return {"workers": count, "processes_each": processes_each, "documents": total, "indexed": indexed,
            "seconds": round(seconds, 2), "documents_per_s": round(indexed / seconds, 2),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def run(workdir: Path, n_docs: int, kind: str = "born_digital") -> dict:
    n_pdf, n_scan = (n_docs, 0) if kind == "born_digital" else (0, n_docs)
    bag = ingest_bench.build_bags(workdir / "bags", n_pdf, n_scan)[kind][0]
    registered = workdir / "registered"
    if not registered.exists():
        register_only(registered, bag)
    runs = []
    for count in (1, 2, 1, 2):  # alternated, so a change in the machine's load touches both
        home = workdir / f"home-{count}-{time.time_ns()}"
        shutil.copytree(registered, home)
        runs.append(run_workers(home, count))
        shutil.rmtree(home, ignore_errors=True)
    one = [r["documents_per_s"] for r in runs if r["workers"] == 1]
    two = [r["documents_per_s"] for r in runs if r["workers"] == 2]
    best_one, best_two = max(one), max(two)
    return {"kind": kind, "cores": os.cpu_count(), "runs": runs, "one_worker_docs_per_s": best_one,
            "two_workers_docs_per_s": best_two, "scaling": round(best_two / best_one, 2)}


def summary(f: dict) -> list[str]:
    loads = [r["load_average_1min"] for r in f["runs"]]
    return [f"archive worker, {f['kind']}: 1 process {f['one_worker_docs_per_s']} documents/s, 2 processes "
            f"{f['two_workers_docs_per_s']} documents/s -> x{f['scaling']} ({f['cores']} cores; "
            f"load average per run {loads})"]


def main(argv: list[str]) -> None:
    n_docs = int(argv[1]) if len(argv) > 1 else 300
    kind = os.environ.get("BENCH_SCALING_KIND", "born_digital")
    if len(argv) > 2:
        figures = run(Path(argv[2]), n_docs, kind)
    else:
        with tempfile.TemporaryDirectory(prefix="worker-scaling-") as tmp:
            figures = run(Path(tmp), n_docs, kind)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    print("\n".join(summary(figures)))


if __name__ == "__main__":
    main(sys.argv)
