"""How the exact-count threshold (``ARCHIVE_SEARCH_EXACT_TOTAL_UP_TO``, ``TantivyEngine(estimate_above=)``)
changes the CPU of a search, on one Tantivy index of the province corpus.

    BENCH_DOCS=200000 BENCH_DATA=/work/bench-data .venv/bin/python -m bench.estimate_bench

Reads the index ``make bench-scale`` keeps (``BENCH_DATA/tantivy-<docs>-<seed>``) or builds one
there; then, for each threshold (exact, 100,000, 10,000, 1,000), CPU p50/p95 of the portal's
search (total, facets, a page of 20 with snippets) per kind of query, and how many of the answers
were estimated.  CPU time of this process (the machine is shared); prints figures only.
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
    path = data / f"tantivy-{count}-{corpus.seed}" / "tantivy"
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
            parts.append(f"{kind} {statistics.median(cpu):.0f}/{_percentile(cpu, 95):.0f} ms ({estimated}/{len(cpu)} est.)")
        engine.close()
        label = "exact" if above is None else f"{above:,}"
        print(f"estimate above {label:>8}: CPU p50/p95 " + "; ".join(parts) + f"  load {os.getloadavg()[0]:.1f}",
              flush=True)


if __name__ == "__main__":
    main()
