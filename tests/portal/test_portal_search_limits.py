"""Searches are limited per account, through the pages and the API together (issue 10, finding 3)."""
from __future__ import annotations

from dataclasses import replace

from conftest import build_world
from portal_helpers import login
from token_helpers import bearer, new_token

from archive_portal import create_app


def test_an_account_that_searches_too_often_is_told_to_wait(tmp_path):
    world = build_world(tmp_path / "home")
    try:
        world.archive.settings = replace(world.archive.settings, search_rate_limit="3 per day")  # a window no test run straddles
        app = create_app(archive=world.archive)
        phohien, sonnam = app.test_client(), app.test_client()
        assert login(phohien, "phohien").status_code == 302
        assert login(sonnam, "sonnam").status_code == 302
        token = new_token(world, "phohien")
        assert phohien.get("/?q=báo+cáo").status_code == 200
        assert phohien.get("/?q=kế+hoạch").status_code == 200
        assert app.test_client().get("/api/v1/search?q=dịch+bệnh", headers=bearer(token)).status_code == 200
        refused = phohien.get("/?q=đường")
        assert refused.status_code == 429
        assert "Quá nhiều yêu cầu" in refused.get_data(as_text=True)
        api = app.test_client().get("/api/v1/search?q=đường", headers=bearer(token))  # same account, other way in
        assert api.status_code == 429 and "error" in api.get_json()
        assert sonnam.get("/?q=báo+cáo").status_code == 200  # other accounts keep their own budget
        assert phohien.get(f"/van-ban/{world.docs['district']}").status_code == 200  # reading is not searching
    finally:
        world.archive.close()


def test_the_configured_time_budget_bounds_the_whole_search(world):
    """ARCHIVE_SEARCH_TIMEOUT_MS reaches the embedded engine too, and a spent budget starts nothing."""
    import pytest

    from archive_core.engines import open_engine
    from indexes.base import SearchTimeout
    from indexes.query import build_query

    query = build_query("báo cáo", scope=None)
    roomy = open_engine(replace(world.archive.settings, search_timeout_ms=5000))
    spent = open_engine(replace(world.archive.settings, search_timeout_ms=0))
    try:
        assert roomy.search(query).total >= 3
        with pytest.raises(SearchTimeout):
            spent.search(query)
    finally:
        roomy.close()
        spent.close()


def test_a_search_past_its_budget_says_so_and_how_to_narrow_it(world):
    """The page and the API tell the user the search took too long (not that the service is down)."""
    from archive_core.context import Archive

    archive = Archive.open(replace(world.archive.settings, search_timeout_ms=0), migrate=False)
    try:
        app = create_app(archive=archive)
        client = app.test_client()
        assert login(client, "admin").status_code == 302
        page = client.get("/?q=báo+cáo")
        assert page.status_code == 503
        text = page.get_data(as_text=True)
        assert "Tìm kiếm mất quá nhiều thời gian; hãy thêm từ hoặc bộ lọc để thu hẹp." in text
        assert "không sẵn sàng" not in text
        api = app.test_client().get("/api/v1/search?q=báo+cáo", headers=bearer(new_token(world, "sonnam")))
        assert api.status_code == 503 and "quá nhiều thời gian" in api.get_json()["error"]
    finally:
        archive.close()
