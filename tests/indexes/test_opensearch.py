"""What only the cluster engine has: pages past the result window, reached with search_after."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from indexes.opensearch import ClusterEngine
from indexes.query import build_query
from tests.indexes.conftest import ENGINES, make_doc
from tests.opensearch_node import unique_alias

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif("opensearch" not in ENGINES, reason="ARCHIVE_TEST_ENGINES leaves out opensearch")]


@pytest.fixture
def small_window(opensearch_node):
    """An engine that switches to search_after past 20 hits (10,000 on a real index)."""
    engine = ClusterEngine(opensearch_node.url, alias=unique_alias(), max_window=20, time_limit_ms=30_000)
    yield engine
    engine.drop()
    engine.close()


@pytest.mark.parametrize("sort", ["relevance", "date_desc", "date_asc"])
def test_deep_pages_with_search_after_match_shallow_pages(opensearch_node, small_window, sort):
    docs = [make_doc(i, subject=f"Kế hoạch đê điều số {i}", body="đê điều " * (i % 5 + 1),
                     issued_date=date(2020, 1, 1) + timedelta(days=i // 3) if i % 7 else None)
            for i in range(1, 66)]
    small_window.index(docs)
    shallow = ClusterEngine(opensearch_node.url, alias=small_window.alias, time_limit_ms=30_000)
    try:
        pages = [(small_window.search(build_query("de dieu", scope=None, sort=sort, per_page=7, page=p)),
                  shallow.search(build_query("de dieu", scope=None, sort=sort, per_page=7, page=p)))
                 for p in range(1, 12)]
    finally:
        shallow.close()
    deep_ids = [h.id for deep, _ in pages for h in deep.hits]
    assert deep_ids == [h.id for _, flat in pages for h in flat.hits]
    assert sorted(deep_ids) == list(range(1, 66))  # every hit once, none lost past the window
    assert all(deep.total == 65 for deep, _ in pages)
    assert pages[9][0].hits and pages[9][0].hits[0].snippet.count("<mark>") >= 2

