"""Search benchmark: indexing rate and query latency of an engine on given documents.

    .venv/bin/python -m bench.search_bench --docs 50000 --repeat 5

Prints figures only; nothing here asserts on time.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable

from indexes.base import IndexDocument, SearchEngine
from indexes.query import build_query

DEFAULT_QUERIES = [
    "đất đai", "dat dai", "kế hoạch", "ke hoach phong chong", '"ủy ban nhân dân"', "hưng yên",
    "74/KH-UBND", "quyết định thu hồi đất -nông", "bổ nhiệm cán bộ", "xây dựng nông thôn mới",
    "tổng kết", "xyzabc",
]

_WORDS = (
    "ủy ban nhân dân tỉnh huyện xã thị trấn phường hội đồng quyết định kế hoạch công văn thông báo báo cáo "
    "tờ trình đất đai thu hồi bồi thường giải phóng mặt bằng xây dựng nông thôn mới giao thông thủy lợi đê điều "
    "phòng chống thiên tai dịch bệnh y tế giáo dục đào tạo văn hóa thể thao du lịch tài chính ngân sách thuế "
    "kiểm tra thanh tra khiếu nại tố cáo tiếp công dân cán bộ công chức viên chức bổ nhiệm điều động khen thưởng "
    "kỷ luật an ninh quốc phòng quân sự dân quân tự vệ tư pháp hộ tịch chứng thực môi trường tài nguyên khoáng sản "
    "nông nghiệp chăn nuôi trồng trọt lúa gạo nhãn lồng hưng yên phố hiến khoái châu văn giang mỹ hào ân thi "
    "triển khai thực hiện tổng kết năm phương hướng nhiệm vụ đề nghị phê duyệt dự án đầu tư công trình"
).split()
_TYPES = {"QĐ": "Quyết định", "KH": "Kế hoạch", "CV": "Công văn", "TB": "Thông báo", "BC": "Báo cáo", "TTr": "Tờ trình"}
_ISSUERS = ["UBND", "HĐND", "VP", "TCKH", "TNMT", "NN"]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def synthetic_documents(count: int, *, units: int = 200, seed: int = 7) -> list[IndexDocument]:
    """Vietnamese-looking administrative letters with numbers like ``123/QĐ-UBND``."""
    rng = random.Random(seed)
    start = date(2000, 1, 1)
    docs = []
    for i in range(1, count + 1):
        doc_type = rng.choice(list(_TYPES))
        number = f"{rng.randint(1, 999)}/{doc_type}-{rng.choice(_ISSUERS)}"
        subject = f"{_TYPES[doc_type]} về việc {_sentence(rng, rng.randint(6, 16))}"
        body = ". ".join(_sentence(rng, rng.randint(10, 30)).capitalize() for _ in range(rng.randint(8, 40)))
        if rng.random() < 0.05:
            body += f". Căn cứ văn bản số {rng.randint(1, 999)}/{rng.choice(list(_TYPES))}-UBND"
        docs.append(IndexDocument(
            id=i, unit_code=f"X{rng.randint(1, units):04d}", number=number,
            issued_date=start + timedelta(days=rng.randint(0, 9000)), doc_type=doc_type,
            direction=rng.choice(["den", "di"]), subject=subject,
            issuer=f"{rng.choice(['UBND', 'HĐND'])} xã {rng.choice(_WORDS).title()}",
            signer=f"Nguyễn Văn {rng.choice(_WORDS).title()}", body=body,
        ))
    return docs


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def run(engine: SearchEngine, documents: list[IndexDocument], queries: Iterable[str],
        scope: frozenset[str] | None = None, *, repeat: int = 5, batch: int = 5000) -> dict:
    """Index ``documents`` (in batches) then run each query ``repeat`` times; figures in ms."""
    started = time.perf_counter()
    for i in range(0, len(documents), batch):
        engine.index(documents[i:i + batch])
    index_seconds = time.perf_counter() - started
    per_query: dict[str, dict] = {}
    all_ms: list[float] = []
    for text in queries:
        query = build_query(text, scope=scope)
        timings, total = [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            total = engine.search(query).total
            timings.append((time.perf_counter() - t0) * 1000)
        all_ms += timings
        per_query[text] = {"total": total, "median_ms": round(statistics.median(timings), 2),
                           "p95_ms": round(_percentile(timings, 95), 2)}
    return {
        "engine": engine.name,
        "documents": len(documents),
        "index_seconds": round(index_seconds, 2),
        "docs_per_second": round(len(documents) / index_seconds, 1) if index_seconds else None,
        "median_ms": round(statistics.median(all_ms), 2) if all_ms else None,
        "p95_ms": round(_percentile(all_ms, 95), 2) if all_ms else None,
        "queries": per_query,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scope-units", type=int, default=0, help="also run with a scope of this many units")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the index (default: a temp dir)")
    args = parser.parse_args(argv)

    from indexes.sqlite_fts import SqliteFtsEngine

    documents = synthetic_documents(args.docs)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        engine = SqliteFtsEngine(Path(tmp) / "fts.sqlite", time_limit_ms=60_000)
        try:
            report = run(engine, documents, DEFAULT_QUERIES, repeat=args.repeat)
            if args.scope_units:
                scope = frozenset(f"X{i:04d}" for i in range(1, args.scope_units + 1))
                report["scoped"] = run(engine, [], DEFAULT_QUERIES, scope=scope, repeat=args.repeat)
            report["index_bytes"] = sum(p.stat().st_size for p in Path(tmp).iterdir())
        finally:
            engine.close()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
