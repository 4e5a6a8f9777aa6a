"""Ingest throughput: born-digital and scanned packages through the real pipeline.

Each kind is its own bag ingested into a fresh data home, so the pages/s of
each kind is measured alone; the same generated files feed the raw-speed
measures of ``extract_bench`` for comparison.
"""
from __future__ import annotations

import contextlib
import random
import statistics
import time
from pathlib import Path

from archive_core.context import Archive
from archive_portal.services.units import import_mapping
from archive_core.settings import Settings
from indexes.fold import fold
from indexes.query import build_query
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import build_report
from specimens import make_specimens, render_pdf, render_scan

from tests.ingest.packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parent.parent / "archive_core" / "data" / "units-hung-yen-2025.csv"


def build_bags(workdir: Path, n_pdf: int, n_scan: int, pdf_pages: int = 2, seed: int = 11) -> dict[str, tuple[Path, list]]:
    specs = make_specimens(n_pdf + n_scan, seed=seed, issuer="UBND phường Lam Sơn", year=2024)
    bags: dict[str, tuple[Path, list]] = {}
    for kind, chosen in (("born_digital", specs[:n_pdf]), ("scanned", specs[n_pdf:])):
        root = workdir / kind
        if (root / "bagit.txt").exists():
            bags[kind] = (root, chosen)
            continue
        (root / "files").mkdir(parents=True, exist_ok=True)
        rows = []
        for index, spec in enumerate(chosen, start=1):
            name = f"files/{kind}-{index:04d}.pdf"
            if kind == "born_digital":
                render_pdf(spec, root / name, pages=pdf_pages)
            else:
                render_scan(spec, root / name, fmt="pdf", dpi=200)
            rows.append(row_for(spec, f"{kind}-{index}", name))
        bags[kind] = (write_package(root, rows), chosen)
    return bags


def ingest_kind(home: Path, bag: Path, workers: int, meter=None) -> dict:
    """``meter``: a context manager around the ingest alone (not the data home's setup), e.g. a CPU meter."""
    archive = Archive.open(Settings.load(home=home))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    with meter if meter is not None else contextlib.nullcontext():
        started = time.perf_counter()
        package_id = ingest_package(archive, bag, IngestOptions(workers=workers))
        seconds = time.perf_counter() - started
    report = build_report(archive, package_id)
    pages = report["pages"]["text"] + report["pages"]["ocr"]
    archive.close()
    return {"seconds": seconds, "pages": pages, "pages_per_s": pages / seconds if seconds else 0.0,
            "documents": report["counts"].get("row:indexed", 0), "counts": report["counts"]}


def search_latency(home: Path, specs: list, runs: int = 200, seed: int = 3) -> dict:
    """Median and p95 of searches on an ingested home: words, folded words, numbers, filters."""
    archive = Archive.open(Settings.load(home=home))
    rng = random.Random(seed)
    queries = []
    for spec in specs:
        words = [w for w in spec.subject.split() if len(w) > 3]
        if words:
            queries.append(" ".join(rng.sample(words, min(2, len(words)))))
            queries.append(fold(" ".join(words[:2])))
        queries.append(spec.number)
    timings = []
    for index in range(runs):
        text = queries[index % len(queries)]
        query = build_query(text, scope=frozenset({"11950", "323"}) if index % 2 else None)
        started = time.perf_counter()
        archive.engine.search(query)
        timings.append((time.perf_counter() - started) * 1000)
    archive.close()
    timings.sort()
    return {"queries": runs, "median_ms": statistics.median(timings),
            "p95_ms": timings[int(len(timings) * 0.95) - 1]}
