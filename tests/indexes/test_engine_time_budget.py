"""One time budget for a whole search, on every embedded engine (``ARCHIVE_SEARCH_TIMEOUT_MS``).

SQLite interrupts its statements at the deadline; Tantivy cannot stop a collector half-way, so it
checks the deadline between phases.  Either way a spent budget is the same clear, Vietnamese
``SearchTimeout`` the portal shows, and nothing half-counted comes back.
"""
from __future__ import annotations

import pytest

from indexes.base import SearchTimeout
from indexes.query import build_query
from tests.indexes.conftest import EMBEDDED, make_doc, open_embedded

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=EMBEDDED)
def index_dir(request, tmp_path):
    """An embedded engine's index of 2,000 documents (every one says "kế hoạch"), closed again."""
    writer = open_embedded(request.param, tmp_path / "index")
    writer.index([make_doc(i, unit=f"U{i % 7}", subject=f"Kế hoạch số {i}",
                           body=f"Kế hoạch thực hiện nhiệm vụ năm {2000 + i % 25} của ủy ban nhân dân xã")
                  for i in range(1, 2001)])
    writer.close()
    return request.param, tmp_path / "index"


@pytest.mark.parametrize("text", ["kế hoạch", '"ủy ban nhân dân"', "", "ke hoach -U3"])
def test_a_spent_budget_is_a_clear_timeout_and_a_roomy_one_answers(index_dir, text):
    name, path = index_dir
    roomy = open_embedded(name, path, time_limit_ms=60_000)
    spent = open_embedded(name, path, time_limit_ms=0)  # a second process on the same index, no time to spend
    try:
        query = build_query(text, scope=None, unit_codes=("U1", "U2") if not text else ())
        answer = roomy.search(query)
        assert answer.total > 0 and len(answer.hits) == 20
        with pytest.raises(SearchTimeout, match="quá nhiều thời gian"):
            spent.search(query)
    finally:
        roomy.close()
        spent.close()


def test_the_budget_is_for_each_search_not_for_the_engine(index_dir):
    """A search that ran out of time leaves nothing behind: the next one, in budget, answers in full."""
    name, path = index_dir
    engine = open_embedded(name, path, time_limit_ms=0)
    try:
        with pytest.raises(SearchTimeout):
            engine.search(build_query("kế hoạch", scope=None))
        engine.time_limit = 60.0  # a longer budget on the same engine: its next search answers in full
        result = engine.search(build_query("kế hoạch", scope=None))
        assert result.total == 2000 and len(result.hits) == 20
        assert all("<mark>" in hit.snippet for hit in result.hits)
    finally:
        engine.close()
