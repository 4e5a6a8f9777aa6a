"""A search that matches more documents than are counted exactly says "hơn N" (issue 11).

Tantivy counts every match up to ARCHIVE_SEARCH_EXACT_TOTAL_UP_TO and, above it, the total and the
facets from a 1/64 sample of the index: the total is then a lower bound.  Here the threshold is 100
and 6,000 documents say "báo cáo" (more than the export's 5,000 rows), so the archive is "large
enough" without a million documents.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import build_world
from portal_helpers import login
from token_helpers import bearer, new_token

from archive_core.db.models import Document, Package
from archive_portal import create_app
from indexes.base import IndexDocument

MANY = 6000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("big-home"), index_engine="tantivy", search_exact_total_up_to=100)
    docs = []
    with world.archive.db.transaction() as session:
        package = session.query(Package).first()
        for i in range(MANY):
            doc = Document(package_id=package.id, unit_code="11950", ma_van_ban=f"VB-tuan-{i}", direction="den",
                           number=f"{i}/BC-UBND", number_norm=f"{i}/BC-UBND", issued_date=date(2024, 1 + i % 12, 1),
                           doc_type="Báo cáo", subject=f"Báo cáo tuần số {i} của phường Lam Sơn", text_ready=True)
            session.add(doc)
            docs.append(doc)
        session.flush()
        to_index = [IndexDocument(id=d.id, unit_code=d.unit_code, ma_van_ban=d.ma_van_ban, number=d.number,
                                  issued_date=d.issued_date, doc_type=d.doc_type, direction=d.direction,
                                  subject=d.subject, body="Báo cáo kết quả công tác trong tuần.") for d in docs]
    world.archive.engine.index(to_index)
    yield world
    world.archive.close()


def _summary(html: str) -> str:
    return re.search(r'<p class="summary">(.*?)</p>', html, re.S).group(1)


def test_a_search_with_more_matches_than_counted_says_hon_and_never_more_than_the_truth(big):
    client = create_app(archive=big.archive).test_client()
    assert login(client, "sonnam").status_code == 302
    summary = _summary(client.get("/?q=báo+cáo").get_data(as_text=True))
    shown = re.search(r"Tìm thấy <strong>hơn (\d{1,3}(?:\.\d{3})+)</strong> văn bản", summary)
    assert shown, summary  # "hơn 4.900": Vietnamese thousands, a lower bound
    assert 2000 <= int(shown.group(1).replace(".", "")) <= MANY + 2
    assert "ít nhất" in summary and "ước tính" in summary  # pages and facet counts say what they are
    # A search that matches few is counted exactly, as before.
    exact = _summary(client.get("/?q=tuần+số+17").get_data(as_text=True))
    assert "hơn" not in exact and "ước tính" not in exact


def test_the_api_says_the_total_is_a_lower_bound_and_pages_are_only_those_that_exist(big):
    token = new_token(big, "sonnam")
    client = create_app(archive=big.archive).test_client()
    broad = client.get("/api/v1/search?q=báo+cáo", headers=bearer(token)).get_json()
    assert broad["total_is_lower_bound"] is True
    assert broad["total"] <= MANY + 2 and broad["pages"] * broad["per_page"] <= MANY + 2
    last = client.get(f"/api/v1/search?q=báo+cáo&page={broad['pages']}", headers=bearer(token)).get_json()
    assert len(last["hits"]) == broad["per_page"]  # the last page counted is there, full
    narrow = client.get("/api/v1/search?q=tuần+số+17", headers=bearer(token)).get_json()
    assert narrow["total_is_lower_bound"] is False and narrow["total"] >= 1


def test_the_export_of_a_lower_bound_search_says_hon_and_how_many_it_holds(big):
    client = create_app(archive=big.archive).test_client()
    assert login(client, "sonnam").status_code == 302
    text = client.get("/ket-qua.csv?q=báo+cáo").get_data(as_text=True)
    assert len([line for line in text.splitlines() if "/van-ban/" in line]) == 5000  # the export's cap
    said = re.search(r"Chỉ xuất 5\.000 văn bản đầu tiên trên tổng số hơn (\d{1,3}(?:\.\d{3})+) văn bản", text)
    assert said, text[-500:]
    assert 5000 <= int(said.group(1).replace(".", "")) <= MANY + 2  # never fewer than it holds
