"""The Tantivy build against raw Tantivy on the same documents, in one run: what the design costs.

    BENCH_FLOOR_DOCS=50000 .venv/bin/python -m bench.build_floor

The same ``bench.corpus`` documents (generated first, outside the clock) are indexed:

* ``engine``: ``TantivyEngine.index`` as a bulk load runs it (``keep_writer``, batches of 5,000):
  the text three times (folded, tone-exact, syllable pairs), the stored text, ten fast fields;
* ``raw, text once``: a bare ``tantivy`` index of one field, the body with the default tokenizer,
  nothing stored: the floor of any full-text index of this text;
* ``raw, text twice``: the body in two such fields (what a folded and an exact view cost at least);
* ``documents only``: the engine's Python side alone (``tantivy.Document`` per document,
  syllable pairs made in Python), no writer: the serial part no number of cores shares.

Each with its wall and CPU seconds (the writer's threads included) and the load average: on a
shared machine the CPU figure is the one to compare.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tantivy

from indexes.base import IndexDocument
from indexes.tantivy_engine import TantivyEngine
from indexes.tantivy_engine import _document as tantivy_document  # the engine's own, timed alone

from .corpus import Corpus
from .scale_bench import _cpu, _dir_bytes  # the same clocks and sizes as the engines' builds

RAW_WRITER_HEAP = 1_000_000_000  # as the engine's bulk writer


def _engine(docs: list[IndexDocument], where: Path) -> None:
    engine = TantivyEngine(where / "tantivy", keep_writer=True)
    for start in range(0, len(docs), 5000):
        engine.index(docs[start : start + 5000])
    engine.optimize()
    engine.close()


def _raw(fields: int) -> Callable[[list[IndexDocument], Path], None]:
    def index(docs: list[IndexDocument], where: Path) -> None:
        builder = tantivy.SchemaBuilder()
        names = [f"body{i}" for i in range(fields)]
        for name in names:
            builder.add_text_field(name, index_option="freq")
        writer = tantivy.Index(builder.build(), path=str(where)).writer(heap_size=RAW_WRITER_HEAP)
        for doc in docs:
            raw = tantivy.Document()
            for name in names:
                raw.add_text(name, doc.body or "")
            writer.add_document(raw)
        writer.commit()
        writer.wait_merging_threads()

    return index


def _documents_only(docs: list[IndexDocument], where: Path) -> None:
    for doc in docs:
        tantivy_document(doc)


VARIANTS: dict[str, Callable[[list[IndexDocument], Path], None]] = {
    "engine": _engine,
    "raw, text once": _raw(1),
    "raw, text twice": _raw(2),
    "documents only": _documents_only,
}


def measure(docs: list[IndexDocument], workdir: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, index in VARIANTS.items():
        where = Path(tempfile.mkdtemp(prefix="floor-", dir=workdir))
        try:
            t0, c0 = time.perf_counter(), _cpu()
            index(docs, where)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            out[name] = {
                "docs_per_second": round(len(docs) / wall),
                "docs_per_cpu_second": round(len(docs) / cpu),
                "cpu_ms_per_doc": round(cpu * 1000 / len(docs), 3),
                "index_bytes": _dir_bytes(where),
                "load": round(os.getloadavg()[0], 1),
            }
        finally:
            shutil.rmtree(where, ignore_errors=True)
        f = out[name]
        print(
            f"  {name:16} {f['docs_per_second']:>7} docs/s  {f['docs_per_cpu_second']:>7} per CPU second  "
            f"{f['cpu_ms_per_doc']:.3f} ms CPU a document  {f['index_bytes'] / 1e6:8.1f} MB  load {f['load']}",
            flush=True,
        )
    engine, once = out["engine"], out["raw, text once"]
    print(
        f"  engine / raw text once: {engine['docs_per_second'] / once['docs_per_second']:.2f} by wall, "
        f"{engine['docs_per_cpu_second'] / once['docs_per_cpu_second']:.2f} by CPU; the Python side alone caps a "
        f"build at {out['documents only']['docs_per_cpu_second']} docs/s whatever the cores",
        flush=True,
    )
    return out


def main() -> None:
    count = int(os.environ.get("BENCH_FLOOR_DOCS", 50_000))
    data = Path(os.environ.get("BENCH_DATA") or Path(__file__).resolve().parents[2] / "bench-data")
    data.mkdir(parents=True, exist_ok=True)
    docs = list(Corpus(seed=int(os.environ.get("BENCH_SEED", 11))).documents(count))
    text = sum(len((d.subject or "").encode()) + len((d.body or "").encode()) for d in docs)
    print(
        f"[build-floor] {count} documents ({text / count / 1000:.1f} KB of text each) on {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    measure(docs, data)


if __name__ == "__main__":
    main()
