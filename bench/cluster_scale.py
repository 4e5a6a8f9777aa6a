"""The cluster engine at a province's scale: one OpenSearch 2.19 node, the realistic corpus.

    .venv/bin/python -m bench.cluster_scale [--docs 1000000] [--heap 4g] [--url URL] [--keep]

Starts a node with ``scripts/opensearch-node`` (G1, ``--heap``) unless ``--url`` names one,
builds the index the way ``archive reindex`` does (``new_generation``: no refresh, no
replicas, async translog; ``switch_to`` restores them), streaming ``bench.corpus`` documents
through ``ClusterEngine.index`` (byte-sized batches, two in flight, back-off on 429).  Prints
docs/s, text and index size, refused bulk operations and parent-breaker trips, then p50/p95
per kind of query, unscoped and scoped to one new commune (a lookup account), each with the
total, the four facets and the snippets of a page of 20, as the portal asks.  Figures only.
"""
from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexes.base import IndexDocument
from indexes.opensearch import ClusterEngine, to_source
from indexes.query import build_query

from .corpus import Corpus

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "opensearch-node"
ALIAS = "bench-cluster-scale"

QUERIES: dict[str, list[str]] = {
    "common words": ["kế hoạch", "ủy ban", "báo cáo", "đất đai", "ngân sách"],
    "folded": ["ke hoach", "uy ban nhan dan", "bao cao ket qua", "dat dai", "phong chong thien tai"],
    "phrase": ['"ủy ban nhân dân"', '"kế hoạch"', '"phòng chống thiên tai"', '"giải phóng mặt bằng"',
               '"tiếp công dân"'],
    "several words": ["báo cáo kết quả thực hiện nhiệm vụ", "kế hoạch phòng chống dịch bệnh",
                      "quyết định bổ nhiệm cán bộ xã", "tổ chức hội nghị tổng kết năm", "dự toán ngân sách xã"],
    "rare words": ["Khúc Duyên", "Quách Điệp", "Doãn Uyên", "Triệu Khoa", "Ninh Phượng"],
}


class _Refusals(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "refused" in record.getMessage():
            self.count += 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{url.split(',')[0]}{path}", timeout=600) as response:
        return json.load(response)


def _post(url: str, path: str) -> Any:
    request = urllib.request.Request(f"{url.split(',')[0]}{path}", method="POST")
    with urllib.request.urlopen(request, timeout=3600) as response:
        return json.load(response)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _streamed(docs: Iterator[IndexDocument], total: int, text: list[int], started: float) -> Iterator[IndexDocument]:
    step = max(1, total // 10)
    for n, doc in enumerate(docs, 1):
        text[0] += len(json.dumps(to_source(doc), ensure_ascii=False).encode()) if n % 100 == 0 else 0
        yield doc
        if n % step == 0:
            print(f"  {n:,} documents, {n / (time.monotonic() - started):,.0f}/s", flush=True)


def build(engine: ClusterEngine, corpus: Corpus, docs: int) -> dict[str, float]:
    sampled = [0]
    started = time.monotonic()
    generation = engine.new_generation()
    generation.index(_streamed(corpus.documents(docs), docs, sampled, started))
    loaded = time.monotonic()
    engine.switch_to(generation)
    switched = time.monotonic()
    return {"docs_per_s": docs / (switched - started), "load_s": loaded - started, "switch_s": switched - loaded,
            "json_bytes": sampled[0] * 100}


def measure(engine: ClusterEngine, corpus: Corpus, repeats: int) -> list[tuple[str, str, float, float, int]]:
    sample = [corpus.document(i) for i in (7, 1_001, 50_003, 200_017, 420_011)]
    kinds = dict(QUERIES)
    kinds["number"] = [d.number for d in sample]
    name, commune = corpus.scope_of_new_unit(0)
    rows = []
    for kind, texts in [*kinds.items(), ("filters", ["kế hoạch"])]:
        for scope_name, scope in (("all units", None), (f"one commune ({len(commune)} old units)", commune)):
            times: list[float] = []
            totals: list[int] = []
            for text in texts:
                extra: dict[str, Any] = {}
                if kind == "filters":
                    extra = {"doc_types": ["Quyết định", "Kế hoạch"], "directions": ["den"]}
                query = build_query(text, scope=scope, per_page=20, **extra)
                engine.search(query)  # warm
                for _ in range(repeats):
                    began = time.perf_counter()
                    result = engine.search(query)
                    times.append((time.perf_counter() - began) * 1000)
                totals.append(result.total)
            rows.append((kind, scope_name, statistics.median(times), _percentile(times, 0.95), max(totals)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--url", default="")
    parser.add_argument("--dir", type=Path, default=ROOT / ".cache" / "bench-cluster-node")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--skip-build", action="store_true", help="measure the index already behind the alias")
    parser.add_argument("--mapping", type=int, default=None, help="build and search this mapping version")
    parser.add_argument("--alias", default=ALIAS)
    parser.add_argument("--one-request", action="store_true",
                        help="page, total and facets in one search (the engine's former shape)")
    parser.add_argument("--keep", action="store_true", help="leave the node running (and the index) at the end")
    args = parser.parse_args()
    refusals = _Refusals()
    logging.getLogger("indexes.opensearch").addHandler(refusals)
    url = args.url
    if not url:
        done = subprocess.run([sys.executable, str(SCRIPT), "start", "--dir", str(args.dir), "--heap", args.heap,
                               "--port", str(_free_port()), "--transport-port", str(_free_port()),
                               "--keep-data", "--wait", "600"], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(done.stdout + done.stderr)
        url = done.stdout.strip().splitlines()[-1]
    corpus = Corpus(seed=11)
    versions = {} if args.mapping is None else {"mapping_version": args.mapping}
    engine = ClusterEngine(url, alias=args.alias, time_limit_ms=60_000, split_requests=not args.one_request,
                           **versions)
    try:
        print(f"cluster engine at {args.docs:,} documents, mapping v{engine.mapping_version}, "
              f"{'one request' if args.one_request else 'page and counts side by side'}, node heap {args.heap} (G1)")
        if not args.skip_build:
            figures = build(engine, corpus, args.docs)
            print(f"index: {figures['docs_per_s']:,.0f} documents/s (load {figures['load_s']:.0f} s, "
                  f"switch {figures['switch_s']:.0f} s), source JSON ~{figures['json_bytes'] / 1e9:.2f} GB, "
                  f"bulk refusals waited out: {refusals.count}")
        stats = _get(url, f"/{args.alias}/_stats/store,docs,segments")["_all"]["primaries"]
        nodes = _get(url, "/_nodes/stats/breaker,jvm")["nodes"]
        parent_trips = sum(n["breakers"]["parent"]["tripped"] for n in nodes.values())
        heap = max(n["jvm"]["mem"]["heap_used_percent"] for n in nodes.values())
        print(f"documents {stats['docs']['count']:,}, index {stats['store']['size_in_bytes'] / 1e9:.2f} GB, "
              f"{stats['segments']['count']} segments, parent breaker trips {parent_trips}, heap now {heap} %")
        rows = measure(engine, corpus, args.repeats)
        print(f"{'query kind':<16} {'scope':<30} {'p50 ms':>8} {'p95 ms':>8} {'max total':>10}")
        for kind, scope, p50, p95, total in rows:
            print(f"{kind:<16} {scope:<30} {p50:8.0f} {p95:8.0f} {total:10,}")
    finally:
        engine.close()
        if not args.url and not args.keep:
            subprocess.run([sys.executable, str(SCRIPT), "stop", "--dir", str(args.dir)], check=False)


if __name__ == "__main__":
    main()
