"""How the exact-count threshold (``ARCHIVE_SEARCH_EXACT_TOTAL_UP_TO``, ``TantivyEngine(estimate_above=)``)
changes the CPU of a search, on one Tantivy index of the province corpus.

    BENCH_DOCS=200000 BENCH_DATA=/work/bench-data .venv/bin/python -m bench.estimate_bench

Reads the index ``make bench-scale`` keeps (``BENCH_DATA/tantivy-<docs>-<seed>``) or builds one
there; then, for each threshold (exact, 100,000, 10,000, 1,000), CPU p50/p95 of the portal's
search (total, facets, a page of 20 with snippets) per kind of query, and how many of the answers
were estimated.  CPU time of this process (the machine is shared); prints figures only.

    BENCH_PHASES=1 ... -m bench.estimate_bench

prints instead, at the portal's threshold (10,000), each query's CPU split into counting (total and
facets), the ranked page and the snippets, scoped and unscoped: where the time of a search goes.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from indexes.query import build_query
from indexes.tantivy_engine import TantivyEngine

from .corpus import Corpus
from .scale_bench import _percentile, queries

KINDS = ("common words", "phrase", "several words", "folded", "filters")
THRESHOLDS = (None, 100_000, 10_000, 1_000)


def main() -> None:
    count = int(os.environ.get("BENCH_DOCS", "200000"))
    data = Path(os.environ.get("BENCH_DATA", "../bench-data")).resolve()
    corpus = Corpus(int(os.environ.get("BENCH_SEED", "11")))
    path = data / corpus.build_name("tantivy", count) / "tantivy"
    if not path.exists():
        print(f"building {count} documents into {path}", flush=True)
        engine = TantivyEngine(path, keep_writer=True)
        documents = corpus.documents(count)
        started = time.perf_counter()
        while batch := [d for _, d in zip(range(5000), documents, strict=False)]:
            engine.index(batch)
        engine.optimize()
        engine.close()
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    kinds = queries(corpus, count)
    if os.environ.get("BENCH_PHASES") == "1":
        phases(path, kinds, corpus.scope_of_new_unit()[1])
        return
    for above in THRESHOLDS:
        engine = TantivyEngine(path, estimate_above=above, time_limit_ms=600_000)
        parts = []
        for kind in KINDS:
            cpu: list[float] = []
            estimated = 0
            for _ in range(5):
                for text, kwargs in kinds[kind]:
                    query = build_query(text, scope=None, **kwargs)
                    started = time.process_time()
                    result = engine.search(query)
                    cpu.append((time.process_time() - started) * 1000)
                    estimated += result.total_is_lower_bound
            parts.append(
                f"{kind} {statistics.median(cpu):.0f}/{_percentile(cpu, 95):.0f} ms ({estimated}/{len(cpu)} est.)"
            )
        engine.close()
        label = "exact" if above is None else f"{above:,}"
        print(
            f"estimate above {label:>8}: CPU p50/p95 " + "; ".join(parts) + f"  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


def phases(path: Path, kinds: dict, scope: frozenset[str]) -> None:
    """CPU ms of each phase of each query (median of 5), by wrapping the engine's phase functions."""
    from indexes import tantivy_engine

    spent: dict[str, float] = {}

    def timed(name: str, fn):
        def wrapper(*args, **kwargs):
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + (time.process_time() - started) * 1000

        return wrapper

    engine = TantivyEngine(path, estimate_above=10_000, time_limit_ms=600_000)
    engine._counts = timed("count", engine._counts)  # type: ignore[method-assign]
    tantivy_engine._ranked_page = timed("page", tantivy_engine._ranked_page)
    tantivy_engine.snippet = timed("snippets", tantivy_engine.snippet)
    for kind, items in kinds.items():
        for label, query_scope in (("unscoped", None), ("scoped", scope)):
            for text, kwargs in items:
                query = build_query(text, scope=query_scope, **kwargs)
                result = engine.search(query)
                runs: dict[str, list[float]] = {}
                for _ in range(5):
                    spent.clear()
                    started = time.process_time()
                    engine.search(query)
                    runs.setdefault("search", []).append((time.process_time() - started) * 1000)
                    for name, value in spent.items():
                        runs.setdefault(name, []).append(value)
                split = " ".join(f"{name} {statistics.median(v):5.1f}" for name, v in runs.items())
                bound = "+" if result.total_is_lower_bound else ""
                print(f"{kind:13} {label:8} {text[:32]:32} CPU ms: {split} | total {result.total}{bound}", flush=True)
    engine.close()
    print(f"load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
