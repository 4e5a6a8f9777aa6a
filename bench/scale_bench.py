"""``make bench-scale``: SQLite FTS5 and a real OpenSearch node side by side on one generated corpus.

    .venv/bin/python -m bench.scale_bench            # BENCH_SCALE_DOCS (default 200000) documents

For each engine: indexing rate (docs/s, through ``SearchEngine.index`` in
batches, as ingest does) and search latency, median and 95th percentile, per
kind of query: plain words, folded words (typed without tones), phrases,
number lookups, filtered (scope of a few units, type, direction, dates) and
faceted (the same words with the four facets counted; the other kinds ask for
no facets).  Snippets are made for every hit, as on the search page.  The
OpenSearch node is started by ``scripts/opensearch-node`` on a free loopback
port and stopped at the end.  Prints figures only; nothing asserts on time.
"""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from indexes.base import IndexDocument, SearchEngine
from indexes.query import build_query

from .search_bench import _percentile, run, synthetic_documents

ROOT = Path(__file__).resolve().parents[1]
WORDS_PLAIN = ["kế hoạch", "đất đai", "bổ nhiệm cán bộ", "tổng kết năm", "hưng yên", "thủy lợi đê điều"]
WORDS_FOLDED = ["ke hoach", "dat dai", "bo nhiem can bo", "tong ket nam", "hung yen", "thuy loi de dieu"]
PHRASES = ['"ủy ban nhân dân"', '"xây dựng nông thôn mới"', '"giải phóng mặt bằng"', '"phòng chống thiên tai"',
           '"tiếp công dân"', '"kế hoạch"']


def _queries(documents: list[IndexDocument]) -> dict[str, list[tuple[str, dict[str, Any], bool]]]:
    """kind -> [(text, build_query kwargs, with facets)]."""
    step = max(1, len(documents) // 7)
    numbers = [documents[i].number for i in range(0, len(documents), step)][:6]
    scope = frozenset(f"X{i:04d}" for i in range(1, 6))  # a commune that succeeded five old units
    filtered = [
        ("đất đai", {"scope": scope}),
        ("kế hoạch", {"scope": scope, "doc_types": ["KH"]}),
        ("", {"scope": scope, "directions": ["den"]}),
        ("bổ nhiệm", {"date_from": date(2010, 1, 1), "date_to": date(2015, 12, 31)}),
        ("", {"doc_types": ["QĐ"], "date_from": date(2020, 1, 1)}),
        ("thu hồi đất", {"unit_codes": ["X0007", "X0042"], "sort": "date_desc"}),
    ]
    return {
        "plain": [(q, {}, False) for q in WORDS_PLAIN],
        "folded": [(q, {}, False) for q in WORDS_FOLDED],
        "phrase": [(q, {}, False) for q in PHRASES],
        "number": [(n, {}, False) for n in numbers],
        "filtered": [(q, kw, False) for q, kw in filtered],
        "faceted": [(q, {}, True) for q in WORDS_PLAIN[:3] + WORDS_FOLDED[3:]],
    }


def latency(engine: SearchEngine, queries: dict[str, list[tuple[str, dict, bool]]], repeat: int) -> dict:
    out: dict[str, dict] = {}
    for kind, items in queries.items():
        timings: list[float] = []
        totals: list[int] = []
        for text, kwargs, facets in items:
            kwargs = dict(kwargs)
            kwargs.setdefault("scope", None)
            query = build_query(text, **kwargs)
            if not facets:
                query = replace(query, facets=())
            engine.search(query)  # warm
            for _ in range(repeat):
                t0 = time.perf_counter()
                result = engine.search(query)
                timings.append((time.perf_counter() - t0) * 1000)
            totals.append(result.total)
        out[kind] = {"queries": len(items), "median_ms": round(statistics.median(timings), 2),
                     "p95_ms": round(_percentile(timings, 95), 2), "totals": totals}
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_engine(engine: SearchEngine, documents: list[IndexDocument], repeat: int) -> dict:
    indexed = run(engine, documents, [], repeat=1, batch=5000)
    figures = {"engine": engine.name, "documents": indexed["documents"], "index_seconds": indexed["index_seconds"],
               "docs_per_second": indexed["docs_per_second"], "count": engine.count()}
    figures["latency"] = latency(engine, _queries(documents), repeat)
    return figures


def main() -> None:
    count = int(os.environ.get("BENCH_SCALE_DOCS", 200_000))
    repeat = int(os.environ.get("BENCH_SCALE_REPEAT", 10))
    heap = os.environ.get("BENCH_OPENSEARCH_HEAP", "1g")
    print(f"[bench-scale] generating {count} documents...", flush=True)
    documents = synthetic_documents(count)
    report: dict[str, Any] = {"documents": count, "cores": os.cpu_count(), "repeat": repeat}
    with tempfile.TemporaryDirectory(prefix="archive-bench-scale-") as tmp:
        work = Path(tmp)
        from indexes.sqlite_fts import SqliteFtsEngine

        print("[bench-scale] sqlite: indexing...", flush=True)
        sqlite = SqliteFtsEngine(work / "fts.sqlite", time_limit_ms=60_000)
        try:
            report["sqlite"] = bench_engine(sqlite, documents, repeat)
        finally:
            sqlite.close()
        (work / "fts.sqlite").unlink()

        print(f"[bench-scale] opensearch: starting a node (heap {heap})...", flush=True)
        node_dir = work / "node"
        started = subprocess.run([sys.executable, str(ROOT / "scripts" / "opensearch-node"), "start",
                                  "--dir", str(node_dir), "--port", str(_free_port()),
                                  "--transport-port", str(_free_port()), "--heap", heap,
                                  "--parent-pid", str(os.getpid())],
                                 capture_output=True, text=True)
        if started.returncode != 0:
            sys.exit(f"OpenSearch node did not start:\n{started.stderr}")
        url = started.stdout.strip().splitlines()[-1]
        from indexes.opensearch import ClusterEngine

        cluster = ClusterEngine(url, flavour="opensearch", alias="bench-scale", time_limit_ms=60_000)
        try:
            print("[bench-scale] opensearch: indexing...", flush=True)
            report["opensearch"] = bench_engine(cluster, documents, repeat)
        finally:
            cluster.close()
            subprocess.run([sys.executable, str(ROOT / "scripts" / "opensearch-node"), "stop", "--dir", str(node_dir)])
    print(json.dumps(report, ensure_ascii=False, indent=2))
    _summary(report)


def _summary(report: dict) -> None:
    s, o = report["sqlite"], report["opensearch"]
    print(f"\n== {report['documents']} documents, {report['cores']} cores ==")
    print(f"{'':24}{'SQLite FTS5':>22}{'OpenSearch 2.19':>22}")
    print(f"{'indexing docs/s':24}{s['docs_per_second']:>22}{o['docs_per_second']:>22}")
    for kind in s["latency"]:
        a, b = s["latency"][kind], o["latency"][kind]
        print(f"{kind + ' median/p95 ms':24}{a['median_ms']:>11} /{a['p95_ms']:>8}{b['median_ms']:>12} /{b['p95_ms']:>8}")


if __name__ == "__main__":
    main()
