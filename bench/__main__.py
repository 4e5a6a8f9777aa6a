"""``make bench``: ingest and search figures of the embedded engine, printed in one run.

Prints, for a generated set of born-digital and scanned documents:
ingest pages/s of each kind next to the raw speed of pypdfium2 text extraction
and of the ``tesseract`` command on the same kind of pages, and the ratios on the
very same pages (``ingest_ratio``), memory over time of a 10,000-document ingest
(``memory_bench.run_many``), ``archive worker`` on 1 and 2 processes
(``worker_scaling``), metadata accuracy,
and search latency on the ingested set and on a larger synthetic index; backup,
verify and restore times on a home of BENCH_BACKUP_GB GiB (default 1, 0 skips).
Sizes come from BENCH_* variables; nothing here asserts on time.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from . import (
    backup_bench,
    extract_bench,
    ingest_bench,
    ingest_ratio,
    memory_bench,
    metadata_real_bench,
    search_bench,
    worker_scaling,
)


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def main() -> None:
    n_pdf = _int("BENCH_BORN_DIGITAL", 60)
    n_scan = _int("BENCH_SCANNED", 10)
    n_synthetic = _int("BENCH_SYNTHETIC_DOCS", 50_000)
    workers = _int("BENCH_WORKERS", os.cpu_count() or 1)
    figures: dict[str, object] = {"cores": os.cpu_count(), "workers": workers}
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as tmp:
        work = Path(tmp)
        print(f"[bench] raw extraction speeds ({n_pdf} born-digital, {n_scan} scanned)...", flush=True)
        figures["raw"] = extract_bench.run(work / "raw", n_pdf, n_scan)
        n_real_scans = _int("BENCH_REAL_SCANS", 30)  # OCR readings are cached (BENCH_CACHE)
        print(f"[bench] metadata on the real corpus (born-digital, {n_real_scans} scans)...", flush=True)
        figures["metadata_real"] = metadata_real_bench.run(work / "real", scans=n_real_scans)
        print("[bench] building bags...", flush=True)
        bags = ingest_bench.build_bags(work / "bags", n_pdf, n_scan)
        ingest: dict[str, object] = {}
        for kind, (bag, _) in bags.items():
            print(f"[bench] ingesting {kind}...", flush=True)
            ingest[kind] = ingest_bench.ingest_kind(work / f"home-{kind}", bag, workers)
        figures["ingest"] = ingest
        # The ratios of issue 11: ingest against pypdfium2 and tesseract on the same pages, same run.
        print("[bench] ingest vs raw tools on the same pages...", flush=True)
        figures["ingest_ratio"] = ingest_ratio.run(
            work / "ratio", _int("BENCH_RATIO_BORN_DIGITAL", 300), _int("BENCH_RATIO_SCANNED", n_scan), workers
        )
        many = _int("BENCH_MANY_DOCS", 10_000)
        if many > 0:
            print(f"[bench] memory over time: ingest of {many} small documents...", flush=True)
            figures["memory_many"] = {
                k: v for k, v in memory_bench.run_many(work / "many", many, workers).items() if k != "samples"
            }
        scaling = _int("BENCH_SCALING_DOCS", 300)
        if scaling > 0:
            print(f"[bench] archive worker on 1 and 2 processes, {scaling} documents...", flush=True)
            figures["worker_scaling"] = worker_scaling.run(work / "scaling", scaling)
        figures["search_on_ingested_set"] = ingest_bench.search_latency(
            work / "home-born_digital", bags["born_digital"][1]
        )
        print(f"[bench] synthetic index of {n_synthetic} documents...", flush=True)
        from indexes.sqlite_fts import SqliteFtsEngine

        engine = SqliteFtsEngine(work / "synthetic" / "fts.sqlite")
        try:
            started = time.perf_counter()
            synthetic = search_bench.run(
                engine, search_bench.synthetic_documents(n_synthetic), search_bench.DEFAULT_QUERIES, repeat=5
            )
            synthetic["wall_seconds"] = round(time.perf_counter() - started, 1)
            synthetic.pop("queries", None)
            figures["search_synthetic"] = synthetic
        finally:
            engine.close()
        backup_gb = float(os.environ.get("BENCH_BACKUP_GB", "1"))
        if backup_gb > 0:
            print(f"[bench] backup, verify and restore on a home of {backup_gb} GiB...", flush=True)
            figures["backup"] = backup_bench.run(work / "backup", backup_gb, workers)
        big = float(os.environ.get("BENCH_BIG_PACKAGE_GB", "1"))
        if big > 0:
            print(f"[bench] memory: ingest of a {big} GB package next to a small one...", flush=True)
            figures["memory"] = memory_bench.run(work / "memory", big, workers)
    print(json.dumps(figures, ensure_ascii=False, indent=2, default=str))
    _print_summary(figures)


def _print_summary(f: dict) -> None:
    raw, ingest = f["raw"], f["ingest"]
    print("\n== Tóm tắt / summary ==")
    print(
        f"born-digital: ingest {ingest['born_digital']['pages_per_s']:.1f} pages/s "
        f"({ingest['born_digital']['pages']} pages) | raw pypdfium2 text {raw['pdfium_text_pages_per_s']} pages/s"
    )
    if "tesseract_pages_per_s" in raw:
        print(
            f"scanned:      ingest {ingest['scanned']['pages_per_s']:.2f} pages/s "
            f"({ingest['scanned']['pages']} pages) | raw tesseract CLI {raw['tesseract_pages_per_s']} pages/s "
            f"({raw['tesseract_processes']} processes, 300 dpi)"
        )
    for line in ingest_ratio.summary(f["ingest_ratio"]):
        print(line)
    if "memory_many" in f:
        for line in memory_bench.summary_many(f["memory_many"]):
            print(line)
    if "worker_scaling" in f:
        for line in worker_scaling.summary(f["worker_scaling"]):
            print(line)
    s = f["search_on_ingested_set"]
    print(f"search on ingested set: median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms ({s['queries']} queries)")
    y = f["search_synthetic"]
    print(
        f"search on {y['documents']} synthetic docs: median {y['median_ms']} ms, p95 {y['p95_ms']} ms; "
        f"indexing {y['docs_per_second']} docs/s"
    )
    print(f"metadata accuracy born-digital: {raw['metadata_accuracy_born_digital']}")
    if "metadata_accuracy_scanned" in raw:
        print(f"metadata accuracy scanned:      {raw['metadata_accuracy_scanned']}")
    if "metadata_real" in f:
        for line in metadata_real_bench.summary(f["metadata_real"]):
            print(line)
    if "memory" in f:
        m = f["memory"]
        print(
            f"memory: {m['small_package_mb']} MB package peak {m['small_ingest']['peak_rss_all_processes_mb']} MB RSS "
            f"(all processes); {m['big_package_mb']} MB package peak {m['big_ingest']['peak_rss_all_processes_mb']} MB "
            f"RSS, largest process {m['big_ingest']['peak_rss_largest_process_mb']} MB; "
            f"{m['big_ingest_mb_per_s']} MB/s"
        )
    if "backup" in f:
        for line in backup_bench.summary(f["backup"]):
            print(line)


if __name__ == "__main__":
    main()
