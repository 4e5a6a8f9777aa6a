"""Saved searches (a lookup account may write exactly these rows for itself) and recent searches."""
from __future__ import annotations

import re
from html import unescape

from portal_helpers import csrf_token
from sqlalchemy import select

from archive_core.db.models import Account, SavedSearch


def _token(client) -> str:
    return csrf_token(client.get("/").get_data(as_text=True))


def _saved(world, username: str) -> list[SavedSearch]:
    with world.archive.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        return list(session.scalars(select(SavedSearch).where(SavedSearch.account_id == account.id)))


def test_lookup_saves_reopens_and_deletes_its_own_search(as_sonnam, as_phohien, world):
    token = _token(as_sonnam)
    r = as_sonnam.post("/tra-cuu-da-luu", data={"csrf_token": token, "name": "Kế hoạch 74", "q": "kế hoạch",
                                                 "number": "74", "sort": "date_desc", "page": "3"})
    assert r.status_code == 302 and "/?" in r.headers["Location"]
    (kept,) = _saved(world, "sonnam")
    assert kept.name == "Kế hoạch 74" and kept.args == {"q": "kế hoạch", "number": "74", "sort": "date_desc"}
    page = as_sonnam.get("/tra-cuu-da-luu").get_data(as_text=True)
    link = unescape(re.search(r'<a href="(/\?[^"]+)">Kế hoạch 74</a>', page).group(1))
    results = as_sonnam.get(link).get_data(as_text=True)
    assert world.subjects["lam_son"] in results and 'value="74"' in results
    # Another account neither sees nor deletes it (404), and nothing of it shows on its page.
    assert "Kế hoạch 74" not in as_phohien.get("/tra-cuu-da-luu").get_data(as_text=True)
    assert as_phohien.post(f"/tra-cuu-da-luu/{kept.id}/xoa", data={"csrf_token": _token(as_phohien)}).status_code == 404
    assert len(_saved(world, "sonnam")) == 1
    assert as_sonnam.post(f"/tra-cuu-da-luu/{kept.id}/xoa", data={"csrf_token": token}).status_code == 302
    assert _saved(world, "sonnam") == []


def test_recent_searches_come_from_the_account_own_trail(as_sonnam, as_phohien):
    as_sonnam.get("/", query_string={"q": "phòng chống dịch", "sort": "date_asc"})
    as_phohien.get("/", query_string={"q": "giao thông nông thôn"})
    page = as_sonnam.get("/tra-cuu-da-luu").get_data(as_text=True)
    assert "“phòng chống dịch”; sắp xếp date_asc" in page and "giao thông" not in page


def test_an_empty_search_is_not_saved(as_sonnam, world):
    r = as_sonnam.post("/tra-cuu-da-luu", data={"csrf_token": _token(as_sonnam)}, follow_redirects=True)
    assert "Không có gì để lưu" in r.get_data(as_text=True)
    assert _saved(world, "sonnam") == []


def test_the_guard_refuses_a_lookup_saving_for_someone_else(app, world):
    """The write allowance is for the account's own rows only: a row of another account is refused."""
    import pytest
    from flask import g
    from flask_login import login_user
    from werkzeug.exceptions import Forbidden

    from archive_portal.auth import _refuse_writes_of_read_only_requests, user_from_account

    with world.archive.db.session() as s:
        me = s.scalar(select(Account).where(Account.username == "sonnam"))
        other = s.scalar(select(Account).where(Account.username == "phohien"))
        user = user_from_account(s, me)
        with app.test_request_context("/tra-cuu-da-luu", method="POST"):
            login_user(user)
            g.read_only = True
            from flask import request
            request.url_rule = app.url_map._rules_by_endpoint["saved_searches.create"][0]
            s.add(SavedSearch(account_id=other.id, name="x", args={"q": "x"}))
            with pytest.raises(Forbidden):
                _refuse_writes_of_read_only_requests(s, None, None)
            s.rollback()
            s.add(SavedSearch(account_id=me.id, name="x", args={"q": "x"}))
            _refuse_writes_of_read_only_requests(s, None, None)  # its own: allowed
            s.rollback()
