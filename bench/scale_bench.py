"""``make bench-scale``: the search engines side by side on a province-scale corpus.

    BENCH_DOCS=1000000 BENCH_DATA=/work/bench-data .venv/bin/python -m bench.scale_bench

The corpus is ``bench.corpus`` (real Hưng Yên units, administrative phrasing,
1-6 KB a document), streamed: never a million documents in memory.  For each
engine of ``BENCH_ENGINES`` (default ``tantivy,sqlite,sqlite-topk,opensearch``):

* the index build through ``SearchEngine.index`` in batches of ``BENCH_BATCH``
  (documents/s counts the engine's time only, not the generator's), the
  index size on disk against the size of the text it holds;
* p50/p95 of the portal's search (total, the four facets, a page of 20 with
  snippets) per kind of query, unscoped (an archivist) and scoped to the old
  units of one new commune (a lookup account);
* then, once, ingest against its raw tools on the same pages (``bench.ingest_ratio``:
  ``BENCH_RATIO_BORN_DIGITAL`` letters and ``BENCH_RATIO_SCANNED`` scans, 300 and 48 by default).

``sqlite-topk`` (the FTS5 redesign, ``indexes.sqlite_topk``) reads the index
``sqlite`` built; ``tantivy-estimate`` reads the one ``tantivy`` built and
answers the total and the facets of more than ``ESTIMATE_ABOVE`` matches from a
1/64 sample (a lower-bound total, "hơn ...").  Indexes are kept under ``BENCH_DATA/<engine>-<docs>-<seed>``
and reused by the next run (``BENCH_REBUILD=1`` builds them again), so a run
can measure queries again without an hour of indexing.  The OpenSearch node is
started by ``scripts/opensearch-node`` and stopped at the end; ``opensearch``
and ``opensearch-estimate`` (the same, as the portal opens it: ``estimate_above``)
are measured one after the other on the one index it builds, with the shard
request cache off (a repeated count would otherwise come from it: each timed run
counts as a new query does), and their CPU is this process's plus the node's.
Figures go to ``BENCH_DATA/scale-report-<docs>-<seed>-<layout>.json``, beside those of
the engines an earlier run of the same corpus measured there (kept unless measured again).
Prints figures only; nothing asserts on time.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from indexes.base import IndexDocument, SearchEngine
from indexes.query import build_query

from .corpus import Corpus

ROOT = Path(__file__).resolve().parents[1]
ALL_ENGINES = ("tantivy", "tantivy-estimate", "sqlite", "sqlite-topk", "opensearch", "opensearch-estimate")
CLUSTER_ENGINES = ("opensearch", "opensearch-estimate")  # measured on one node, one index built once
# *-estimate: totals and facets from a 1/64 sample above this many matches, as the portal does
# (ARCHIVE_SEARCH_EXACT_TOTAL_UP_TO; bench.estimate_bench compares thresholds)
ESTIMATE_ABOVE = 10_000


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def queries(corpus: Corpus, count: int) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """kind -> [(text, build_query kwargs)]: what the portal sends, with values taken from the corpus."""
    sample = [corpus.document(i) for i in range(1, count + 1, max(1, count // 9))][:8]
    # A person's full name, quoted (in a handful of documents) and as bare words (three common syllables).
    rare = [f'"{sample[0].signer}"', f'"{sample[1].signer}"', sample[2].signer, sample[3].signer]
    numbers = [d.number for d in sample[4:8]]
    return {
        "common words": [("kế hoạch", {}), ("ủy ban", {}), ("báo cáo", {}), ("nhân dân xã", {})],
        "folded": [("ke hoach", {}), ("giai phong mat bang", {}), ("thuy loi", {}), ("nong thon moi", {})],
        "tone-exact": [("Hòa Bình", {}), ("đất đai", {}), ("thiên tai", {}), ("Hưng Yên", {})],
        "phrase": [('"ủy ban nhân dân"', {}), ('"kế hoạch"', {}), ('"xây dựng nông thôn mới"', {}),
                   ('"phòng chống thiên tai"', {})],
        "several words": [("kế hoạch phòng chống thiên tai năm 2020", {}), ("thu hồi đất nông nghiệp thôn", {}),
                          ("bổ nhiệm phó chỉ huy trưởng quân sự", {}), ("dự toán ngân sách xã", {})],
        "names": [(name, {}) for name in rare],
        "numbers": [(number, {}) for number in numbers],
        "filters": [("", {"doc_types": ["Quyết định"], "date_from": date(2020, 1, 1)}),
                    ("đất đai", {"directions": ["den"], "date_from": date(2010, 1, 1), "date_to": date(2015, 12, 31)}),
                    ("kế hoạch", {"doc_types": ["Kế hoạch"], "sort": "date_desc"}),
                    ("", {"sort": "date_desc"})],
    }


def _text_bytes(doc: IndexDocument) -> int:
    return sum(len(v.encode("utf-8")) for v in (doc.number, doc.ma_van_ban, doc.subject, doc.issuer,
                                                  doc.signer, doc.body))


def _cpu() -> float:
    """CPU seconds of this process, all its threads."""
    times = os.times()
    return times.user + times.system


def _batches(documents: Iterator[IndexDocument], size: int) -> Iterator[list[IndexDocument]]:
    while batch := list(islice(documents, size)):
        yield batch


def build(engine: SearchEngine, corpus: Corpus, count: int, batch: int, size: Callable[[], int]) -> dict:
    """Index ``count`` documents; the engine's seconds only (the generator runs outside the clock).

    Also the CPU seconds of this process during the engine's calls (its Rust or Python threads
    included; an OpenSearch node's are not): on a shared machine wall-clock docs/s waits for cores,
    ``docs_per_cpu_second`` is what one busy core indexes."""
    seconds = 0.0
    cpu = 0.0
    text = 0
    done = 0
    next_report = 100_000
    for docs in _batches(corpus.documents(count), batch):
        text += sum(_text_bytes(d) for d in docs)
        t0, c0 = time.perf_counter(), _cpu()
        done += engine.index(docs)
        seconds += time.perf_counter() - t0
        cpu += _cpu() - c0
        if done >= next_report:
            print(f"  {done} documents, {done / seconds:.0f}/s, {done / cpu:.0f} per CPU second, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
            next_report += 100_000
    t0, c0 = time.perf_counter(), _cpu()
    finish = getattr(engine, "optimize", None)  # what a rebuild does before it switches
    if finish:
        finish()
    seconds += time.perf_counter() - t0
    cpu += _cpu() - c0
    return {"documents": done, "index_seconds": round(seconds, 1), "docs_per_second": round(done / seconds),
            "index_cpu_seconds": round(cpu, 1), "docs_per_cpu_second": round(done / max(cpu, 1e-9)),
            "text_bytes": text, "index_bytes": size(), "load": os.getloadavg()[0]}


def latency(engine: SearchEngine, kinds: dict[str, list[tuple[str, dict[str, Any]]]],
            scope: frozenset[str], repeat: int, slow_ms: float = 1000.0,
            server_cpu: Callable[[], float] | None = None) -> dict:
    """p50/p95 per kind, unscoped and scoped; a query slower than ``slow_ms`` is timed once (after a warm run).

    Wall-clock and CPU time are both kept: on a machine shared with other work the wall-clock
    waits for a core, and the CPU time of this process (a search runs on one thread) is what
    the same search takes on an idle machine; ``server_cpu`` (CPU seconds of a search server
    so far) adds the server's share."""
    server = server_cpu or (lambda: 0.0)
    out: dict[str, dict] = {}
    for kind, items in kinds.items():
        for label, query_scope in (("unscoped", None), ("scoped", scope)):
            timings: list[float] = []
            cpu: list[float] = []
            totals: list[str] = []
            for text, kwargs in items:
                query = build_query(text, scope=query_scope, per_page=20, **kwargs)
                t0 = time.perf_counter()
                result = engine.search(query)  # warm
                first = (time.perf_counter() - t0) * 1000
                runs = 1 if first > slow_ms else repeat
                for _ in range(runs):
                    t0, c0, s0 = time.perf_counter(), time.process_time(), server()
                    result = engine.search(query)
                    timings.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0 + server() - s0) * 1000)
                bound = "+" if result.total_is_lower_bound else ""
                totals.append(f"{result.total}{bound}")
            cell = {"p50_ms": round(statistics.median(timings), 1), "p95_ms": round(_percentile(timings, 95), 1),
                    "cpu_p50_ms": round(statistics.median(cpu), 1), "cpu_p95_ms": round(_percentile(cpu, 95), 1),
                    "totals": totals}
            out[f"{kind} | {label}"] = cell
            print(f"  {kind:14} {label:9} wall p50 {cell['p50_ms']:>8} p95 {cell['p95_ms']:>8} ms | cpu p50 "
                  f"{cell['cpu_p50_ms']:>8} p95 {cell['cpu_p95_ms']:>8} ms | totals {' '.join(totals)}", flush=True)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class _Built:
    """An index under BENCH_DATA and the figures of its build (kept beside it)."""

    def __init__(self, data: Path, engine: str, count: int, corpus: Corpus) -> None:
        self.dir = data / corpus.build_name(engine, count)
        self.figures_file = self.dir / "build.json"

    def figures(self) -> dict | None:
        if os.environ.get("BENCH_REBUILD") == "1" or not self.figures_file.is_file():
            return None
        return json.loads(self.figures_file.read_text())

    def fresh(self) -> Path:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        return self.dir

    def save(self, figures: dict) -> None:
        self.figures_file.write_text(json.dumps(figures))


def _embedded(name: str, data: Path, corpus: Corpus, count: int, batch: int) -> tuple[SearchEngine, dict]:
    from indexes.sqlite_fts import SqliteFtsEngine
    from indexes.sqlite_topk import SqliteTopKEngine
    from indexes.tantivy_engine import TantivyEngine

    built = _Built(data, {"sqlite-topk": "sqlite", "tantivy-estimate": "tantivy"}.get(name, name), count, corpus)
    figures = built.figures()
    if name == "tantivy-estimate":
        if figures is None:
            raise SystemExit("tantivy-estimate reads the index tantivy builds: list tantivy before it")
        return TantivyEngine(built.dir / "tantivy", estimate_above=ESTIMATE_ABOVE), figures
    if name == "tantivy":
        path = built.dir / "tantivy"
        if figures is None:
            built.fresh()
            # A bulk load holds the writer (merges in the background), as ``archive reindex`` does.
            engine = TantivyEngine(path, keep_writer=True)
            figures = build(engine, corpus, count, batch, lambda: _dir_bytes(built.dir))
            engine.close()
            figures["index_bytes"] = _dir_bytes(built.dir)
            built.save(figures)
        return TantivyEngine(path, time_limit_ms=60_000), figures
    path = built.dir / "fts.sqlite"
    if figures is None:
        if name == "sqlite-topk":
            raise SystemExit("sqlite-topk reads the index sqlite builds: list sqlite before it in BENCH_ENGINES")
        built.fresh()
        sqlite = SqliteFtsEngine(path, time_limit_ms=600_000)
        figures = build(sqlite, corpus, count, batch, lambda: _dir_bytes(built.dir))
        sqlite.close()
        figures["index_bytes"] = _dir_bytes(built.dir)
        built.save(figures)
    cls = SqliteTopKEngine if name == "sqlite-topk" else SqliteFtsEngine
    return cls(path, time_limit_ms=600_000), figures


def main() -> None:
    count = int(os.environ.get("BENCH_DOCS") or os.environ.get("BENCH_SCALE_DOCS") or 1_000_000)
    repeat = int(os.environ.get("BENCH_SCALE_REPEAT", 5))
    batch = int(os.environ.get("BENCH_BATCH", 5000))
    seed = int(os.environ.get("BENCH_SEED", 11))
    engines = [e.strip() for e in os.environ.get("BENCH_ENGINES", ",".join(ALL_ENGINES)).split(",") if e.strip()]
    data = Path(os.environ.get("BENCH_DATA") or ROOT.parent / "bench-data")
    data.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(seed=seed)
    scope_name, scope = corpus.scope_of_new_unit()
    kinds = queries(corpus, count)
    report: dict[str, Any] = {"documents": count, "seed": seed, "cores": os.cpu_count(), "repeat": repeat,
                              "scope": f"{scope_name} ({len(scope)} old units)", "engines": {}}
    saved = data / f"{corpus.build_name('scale-report', count)}.json"  # the corpus's layout in the name too
    if saved.is_file():  # the figures of engines measured by an earlier run stay beside this run's
        earlier = json.loads(saved.read_text()).get("engines", {})
        report["engines"] = {name: figures for name, figures in earlier.items() if name not in engines}
    print(f"[bench-scale] {count} documents (seed {seed}), index data in {data}; load {os.getloadavg()}; "
          f"figures saved to {saved} after each engine", flush=True)
    for name in engines:
        if name not in ALL_ENGINES:
            raise SystemExit(f"BENCH_ENGINES: unknown engine {name!r}")
        if name in report["engines"]:  # measured with the other cluster variant
            continue
        print(f"[bench-scale] {name}: building or reusing the index...", flush=True)
        if name in CLUSTER_ENGINES:
            variants = [e for e in engines if e in CLUSTER_ENGINES]
            _opensearch(data, corpus, count, batch, kinds, scope, repeat, variants, report, saved)
            continue
        engine, figures = _embedded(name, data, corpus, count, batch)
        try:
            print(f"  build: {figures['docs_per_second']} docs/s ({figures.get('docs_per_cpu_second', '-')} per CPU "
                  f"second), index {figures['index_bytes'] / 1e9:.2f} GB "
                  f"for {figures['text_bytes'] / 1e9:.2f} GB of text (load {figures.get('load')})", flush=True)
            figures["load_before_queries"] = os.getloadavg()[0]
            figures["latency"] = latency(engine, kinds, scope, repeat)
            figures["load_after_queries"] = os.getloadavg()[0]
        finally:
            engine.close()
        report["engines"][name] = figures
        saved.write_text(json.dumps(report, ensure_ascii=False, indent=1))  # what finished, if the run is cut short
    ratios = _ingest_ratios()
    if ratios is not None:
        report["ingest_ratios"] = ratios
        saved.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))
    _summary(report)


def _ingest_ratios() -> dict | None:
    """``bench.ingest_ratio`` in the same run: ingest against raw pypdfium2 and raw tesseract on the same
    pages (``BENCH_RATIO_BORN_DIGITAL`` letters, default 300, and ``BENCH_RATIO_SCANNED`` scans, default 48; both 0: skipped)."""
    import tempfile

    from . import ingest_ratio

    pdfs = int(os.environ.get("BENCH_RATIO_BORN_DIGITAL", 300))
    scans = int(os.environ.get("BENCH_RATIO_SCANNED", 48))
    if not pdfs and not scans:
        return None
    workers = int(os.environ.get("BENCH_WORKERS", os.cpu_count() or 1))
    print(f"[bench-scale] ingest against the raw tools: {pdfs} letters, {scans} scans...", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scale-ratio-") as tmp:
        return ingest_ratio.run(Path(tmp), pdfs, scans, workers)


def _opensearch(data: Path, corpus: Corpus, count: int, batch: int, kinds: dict, scope: frozenset[str],
                repeat: int, variants: list[str], report: dict, saved: Path) -> None:
    """A fresh node each run (its data is not kept); each of ``variants`` measured on the index built once."""
    heap = os.environ.get("BENCH_OPENSEARCH_HEAP", "2g")
    node_dir = data / "opensearch-node"
    shutil.rmtree(node_dir, ignore_errors=True)
    started = subprocess.run([sys.executable, str(ROOT / "scripts" / "opensearch-node"), "start",
                              "--dir", str(node_dir), "--port", str(_free_port()),
                              "--transport-port", str(_free_port()), "--heap", heap,
                              "--parent-pid", str(os.getpid())], capture_output=True, text=True)
    if started.returncode != 0:
        sys.exit(f"OpenSearch node did not start:\n{started.stderr}")
    url = started.stdout.strip().splitlines()[-1]
    from indexes.opensearch import ClusterEngine

    node_cpu = partial(_process_cpu, json.loads((node_dir / "node.json").read_text())["pid"])
    engine = ClusterEngine(url, flavour="opensearch", alias="bench-scale", time_limit_ms=60_000)
    try:
        figures = build(engine, corpus, count, batch, lambda: _dir_bytes(node_dir))
        engine.client.put_settings(engine.target, {"index": {"requests.cache.enable": False}})
        for name in variants:
            print(f"[bench-scale] {name}: on the index just built", flush=True)
            estimate = ESTIMATE_ABOVE if name == "opensearch-estimate" else None
            measured = ClusterEngine(url, flavour="opensearch", alias="bench-scale", time_limit_ms=60_000,
                                     estimate_above=estimate)
            try:
                report["engines"][name] = dict(figures, estimate_above=estimate,
                                               latency=latency(measured, kinds, scope, repeat, server_cpu=node_cpu))
            finally:
                measured.close()
            saved.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    finally:
        engine.close()
        subprocess.run([sys.executable, str(ROOT / "scripts" / "opensearch-node"), "stop", "--dir", str(node_dir)])


def _process_cpu(pid: int) -> float:
    """CPU seconds (user and system, all threads) of another process so far, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summary(report: dict) -> None:
    engines = report["engines"]
    names = list(engines)
    print(f"\n== {report['documents']} documents, {report['cores']} cores, scoped = {report['scope']} ==")
    print(f"{'':34}" + "".join(f"{n:>22}" for n in names))
    print(f"{'index docs/s':34}" + "".join(f"{engines[n]['docs_per_second']:>22}" for n in names))
    print(f"{'index docs per CPU second':34}" + "".join(
        f"{engines[n].get('docs_per_cpu_second', '-'):>22}" for n in names))
    print(f"{'index GB / text GB':34}" + "".join(
        f"{engines[n]['index_bytes'] / 1e9:>14.2f} / {engines[n]['text_bytes'] / 1e9:.2f}" for n in names))
    for measure, p50, p95 in (("wall", "p50_ms", "p95_ms"), ("cpu", "cpu_p50_ms", "cpu_p95_ms")):
        for key in engines[names[0]]["latency"]:
            cells = []
            for n in names:
                cell = engines[n]["latency"].get(key, {})
                cells.append(f"{cell.get(p50, '-'):>10} /{cell.get(p95, '-'):>9}")
            print(f"{key + f' {measure} p50/p95 ms':34}" + "".join(f"{c:>22}" for c in cells))
    if "ingest_ratios" in report:
        from .ingest_ratio import summary

        print("\n".join(summary(report["ingest_ratios"])))
    print(f"load average now: {os.getloadavg()}")


if __name__ == "__main__":
    main()
