"""Fixtures for the search-engine tests.

Every engine-level test takes the ``engine`` fixture; to run the same tests on
another engine, add its name to ``ENGINES`` and its setup below — nothing else.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pytest

from indexes.base import IndexDocument, SearchResult
from indexes.opensearch import ClusterEngine
from indexes.query import build_query
from indexes.sqlite_fts import SqliteFtsEngine
from indexes.tantivy_engine import TantivyEngine
from tests.opensearch_node import engines_under_test, unique_alias

ENGINES = engines_under_test()
# The embedded engines hold one time budget for a whole search (counts, facets, page, snippets);
# the cluster engine bounds each call it makes instead.
EMBEDDED = [name for name in ENGINES if name in ("sqlite", "tantivy")]


def open_embedded(name: str, index_dir, **kwargs):
    """The embedded engine ``name`` on its index under ``index_dir`` (another one on the same index
    when called again: the way a second web process opens it)."""
    if name == "sqlite":
        return SqliteFtsEngine(index_dir / "fts.sqlite", **kwargs)
    if name == "tantivy":
        return TantivyEngine(index_dir / "tantivy", **kwargs)
    raise AssertionError(name)  # pragma: no cover

_FILLER_WORDS = [
    "báo cáo tình hình thực hiện nhiệm vụ công tác quý",
    "tổ chức hội nghị tổng kết năm triển khai phương hướng",
    "đề nghị cấp kinh phí sửa chữa trụ sở làm việc",
    "thông báo lịch tiếp công dân định kỳ của lãnh đạo",
    "hướng dẫn kiểm tra công tác văn thư lưu trữ cơ quan",
    "triệu tập cán bộ tham dự lớp bồi dưỡng nghiệp vụ",
]


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path):
    if request.param in EMBEDDED:
        eng = open_embedded(request.param, tmp_path / "index")
    elif request.param == "opensearch":
        node = request.getfixturevalue("opensearch_node")
        eng = ClusterEngine(node.url, flavour="opensearch", alias=unique_alias(), time_limit_ms=30_000)
    else:  # pragma: no cover
        raise AssertionError(request.param)
    yield eng
    if isinstance(eng, ClusterEngine):
        eng.drop()
    eng.close()


# Engines that count more than ``estimate_above`` matches on the 1/64 sample (``indexes.sample``).
ESTIMATING = [name for name in ENGINES if name in ("tantivy", "opensearch")]
ESTIMATE_ABOVE = 500


@pytest.fixture(params=ESTIMATING)
def estimating(request, tmp_path):
    """``load(docs)``: the documents indexed by the engine with ``estimate_above=ESTIMATE_ABOVE``, then
    (that engine, the same engine opened on the same index counting every match)."""
    opened: list = []

    def load(docs: list[IndexDocument]):
        if request.param == "tantivy":
            sampled = TantivyEngine(tmp_path / "index" / "tantivy", estimate_above=ESTIMATE_ABOVE)
        else:
            node = request.getfixturevalue("opensearch_node")
            sampled = ClusterEngine(node.url, alias=unique_alias(), time_limit_ms=30_000, estimate_above=ESTIMATE_ABOVE)
        opened.append(sampled)
        sampled.index(docs)
        if request.param == "tantivy":
            exact = TantivyEngine(tmp_path / "index" / "tantivy")
        else:
            exact = ClusterEngine(sampled.url, alias=sampled.alias, time_limit_ms=30_000)
        opened.append(exact)
        return sampled, exact

    yield load
    for eng in opened:
        if isinstance(eng, ClusterEngine) and eng.estimate_above is not None:
            eng.drop()
        eng.close()


_UNITS = ["H01", "H01", "H01", "H01", "H02", "H02", "H03", "H03", "H04", "H05"]
_TYPES = ["Kế hoạch", "Báo cáo", "Quyết định", "Công văn"]


def many_docs(count: int = 6400, seed: int = 11) -> list[IndexDocument]:
    """``count`` generated letters (reproducible by ``seed``): "kế hoạch" in about four of five,
    "thủy lợi nội đồng" in about one of 320, skewed units, four types, two directions, ten years."""
    rng = random.Random(seed)
    docs = []
    for i in range(1, count + 1):
        year, plan = rng.randrange(2015, 2025), rng.random() < 0.8
        docs.append(IndexDocument(
            id=i, unit_code=rng.choice(_UNITS), doc_type=rng.choice(_TYPES), direction=rng.choice(("den", "di")),
            issued_date=date(year, rng.randrange(1, 13), rng.randrange(1, 29)), number=f"{i}/KH-UBND",
            subject=f"{'Kế hoạch' if plan else 'Thông báo'} số {i} về phòng chống thiên tai",
            body=("ban hành kế hoạch " if plan else "") + f"công tác năm {year}"
                 + (" nạo vét kênh mương thủy lợi nội đồng" if rng.random() < 1 / 320 else ""),
        ))
    return docs


def make_doc(id: int, unit: str = "U1", **fields) -> IndexDocument:
    fields.setdefault("issued_date", date(2020, 1, 1))
    return IndexDocument(id=id, unit_code=unit, **fields)


@pytest.fixture
def doc() -> Callable[..., IndexDocument]:
    return make_doc


@pytest.fixture
def filler() -> list[IndexDocument]:
    """Forty ordinary documents so that bm25's document frequencies mean something."""
    return [
        make_doc(1000 + i, unit=f"F{i % 3}", subject=f"Văn bản thường số {i}",
                 body=_FILLER_WORDS[i % len(_FILLER_WORDS)] + f" năm {2000 + i}",
                 doc_type="CV", direction="den", issued_date=date(2010, 1 + i % 12, 1 + i % 28))
        for i in range(40)
    ]


@pytest.fixture
def search(engine) -> Callable[..., SearchResult]:
    """``search(text, **build_query kwargs)`` on the engine; scope defaults to everything."""

    def run(text: str = "", **kwargs) -> SearchResult:
        kwargs.setdefault("scope", None)
        return engine.search(build_query(text, **kwargs))

    return run
