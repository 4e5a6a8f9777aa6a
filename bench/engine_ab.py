"""The Tantivy engine of another revision beside this one, on the same index, in one process.

    BENCH_BASE_REV=38830db BENCH_DOCS=200000 BENCH_DATA=/work/bench-data .venv/bin/python -m bench.engine_ab

Reads the index ``make bench-scale`` (or ``bench.estimate_bench``) keeps under
``BENCH_DATA/tantivy-<docs>-<seed>``; ``indexes/`` of ``BENCH_BASE_REV`` is taken with ``git archive``
into a temporary package.  Each query of ``bench.scale_bench.queries`` is searched by both (the
portal's search: total, facets, a page of 20 with snippets; ``BENCH_ESTIMATE_ABOVE``, default 10,000,
0 for exact counts), unscoped and scoped; prints every query whose hits (ids and snippets) differ, or
whose total and facets differ where both counted exactly, then CPU p50/p95 per kind for each.  CPU
time of this process, so a loaded machine matters less; prints figures only.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import indexes.base
from indexes import tantivy_engine
from indexes.query import build_query

from .corpus import Corpus
from .scale_bench import _percentile, queries

ROOT = Path(__file__).resolve().parents[1]


def _base_engine_module(rev: str, into: Path):
    archive = subprocess.run(["git", "archive", rev, "indexes"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "indexes").rename(into / "indexes_base")
    sys.path.insert(0, str(into))
    sys.modules["indexes_base.base"] = indexes.base  # one Term, SearchQuery, Hit for both
    import indexes_base.tantivy_engine as base

    return base


def main() -> None:
    count = int(os.environ.get("BENCH_DOCS", "200000"))
    data = Path(os.environ.get("BENCH_DATA", "../bench-data")).resolve()
    rev = os.environ.get("BENCH_BASE_REV", "HEAD~1")
    repeat = int(os.environ.get("BENCH_REPEAT", "5"))
    above = int(os.environ.get("BENCH_ESTIMATE_ABOVE", "10000")) or None
    corpus = Corpus(int(os.environ.get("BENCH_SEED", "11")))
    path = data / corpus.build_name("tantivy", count) / "tantivy"
    with tempfile.TemporaryDirectory() as tmp:
        base = _base_engine_module(rev, Path(tmp))
        engines = {
            rev: base.TantivyEngine(path, estimate_above=above, time_limit_ms=600_000),
            "this tree": tantivy_engine.TantivyEngine(path, estimate_above=above, time_limit_ms=600_000),
        }
        scope = corpus.scope_of_new_unit()[1]
        cpu: dict[str, dict[str, list[float]]] = {name: {} for name in engines}
        differences = 0
        for kind, items in queries(corpus, count).items():
            for label, query_scope in (("unscoped", None), ("scoped", scope)):
                for text, kwargs in items:
                    query = build_query(text, scope=query_scope, per_page=20, **kwargs)
                    results = {}
                    for name, engine in engines.items():
                        results[name] = engine.search(query)
                        for _ in range(repeat):
                            started = time.process_time()
                            engine.search(query)
                            spent = (time.process_time() - started) * 1000
                            cpu[name].setdefault(f"{kind} | {label}", []).append(spent)
                    old, new = results.values()
                    same_hits = [(h.id, h.snippet) for h in old.hits] == [(h.id, h.snippet) for h in new.hits]
                    exact = not old.total_is_lower_bound and not new.total_is_lower_bound
                    if not same_hits or (exact and (old.total, old.facets) != (new.total, new.facets)):
                        differences += 1
                        print(
                            f"DIFFERENT {kind} {label} {text!r}: hits same {same_hits}, totals {old.total} {new.total}"
                        )
        names = list(engines)
        print(f"{count} documents; CPU ms p50/p95, {repeat} runs per query; estimate above {above}")
        print(f"{'':28}" + "".join(f"{n[:18]:>20}" for n in names))
        for key in cpu[names[0]]:
            cells = [f"{statistics.median(cpu[n][key]):8.1f}/{_percentile(cpu[n][key], 95):7.1f}" for n in names]
            print(f"{key:28}" + "".join(f"{c:>20}" for c in cells))
        print(f"queries answered differently: {differences}; load average {os.getloadavg()}")
        for engine in engines.values():
            engine.close()


if __name__ == "__main__":
    main()
