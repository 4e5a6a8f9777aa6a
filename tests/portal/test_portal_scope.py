"""A lookup account never sees a document outside its new unit's predecessors — anywhere."""

from __future__ import annotations

import re

import pytest

SONNAM_SEES = {"lam_son", "district"}
PHOHIEN_SEES = {"an_tao", "district"}


def _ids(world, keys):
    return {world.docs[k] for k in keys}


def _api_ids(client, **params):
    r = client.get("/api/v1/search", query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


@pytest.mark.parametrize("who,sees", [("as_sonnam", SONNAM_SEES), ("as_phohien", PHOHIEN_SEES)])
def test_search_hits_total_and_facets_are_scoped(request, world, who, sees):
    client = request.getfixturevalue(who)
    data = _api_ids(client, q="báo cáo")
    assert {h["id"] for h in data["hits"]} == _ids(world, sees)
    assert data["total"] == len(sees)
    allowed_units = {("11950" if k == "lam_son" else "11956" if k == "an_tao" else "323") for k in sees}
    assert {v["value"] for v in data["facets"]["unit_code"]["values"]} == allowed_units
    assert sum(v["count"] for v in data["facets"]["unit_code"]["values"]) == len(sees)
    # browsing without words, and asking for a forbidden unit explicitly, stays in scope
    assert {h["id"] for h in _api_ids(client)["hits"]} == _ids(world, sees)
    forbidden_unit = "11956" if who == "as_sonnam" else "11950"
    data = _api_ids(client, q="báo cáo", unit=forbidden_unit)
    assert data["total"] == 0 and data["hits"] == []


def test_search_page_shows_only_scope(as_sonnam, world):
    html = as_sonnam.get("/", query_string={"q": "bao cao"}).get_data(as_text=True)
    assert world.subjects["lam_son"] in html and world.subjects["district"] in html
    assert world.subjects["an_tao"] not in html
    assert "Phường An Tảo" not in html  # neither in hits, facets nor the unit filter
    assert "Tìm thấy <strong>2</strong> văn bản" in html


def test_search_by_forbidden_subject_finds_nothing(as_sonnam):
    data = _api_ids(as_sonnam, q="giao thông nông thôn An Tảo")
    assert data["total"] == 0 and data["facets"] == {}


def _document_urls(world, key):
    doc, f = world.docs[key], world.files[key]
    urls = [
        f"/van-ban/{doc}",
        f"/van-ban/{doc}/tep/{f}/trang/1.png",
        f"/van-ban/{doc}/tep/{f}/tai-ve",
        f"/api/v1/documents/{doc}",
    ]
    if key != "an_tao":  # a TIFF is never shown inline
        urls.append(f"/van-ban/{doc}/tep/{f}/xem")
    return urls


def test_document_routes_of_other_unit_are_404(as_sonnam, as_phohien, world):
    for client, forbidden in [(as_sonnam, "an_tao"), (as_phohien, "lam_son")]:
        for url in _document_urls(world, forbidden):
            r = client.get(url)
            assert r.status_code == 404, url
            assert world.subjects[forbidden] not in r.get_data(as_text=True)


def test_file_of_another_document_cannot_be_reached_through_a_visible_one(as_sonnam, world):
    visible, foreign_file = world.docs["lam_son"], world.files["an_tao"]
    for suffix in ["tai-ve", "xem", "trang/1.png"]:
        assert as_sonnam.get(f"/van-ban/{visible}/tep/{foreign_file}/{suffix}").status_code == 404


def test_out_of_scope_looks_exactly_like_missing(as_sonnam, world):
    forbidden = as_sonnam.get(f"/van-ban/{world.docs['an_tao']}")
    missing = as_sonnam.get("/van-ban/999999")
    assert forbidden.status_code == missing.status_code == 404
    # Byte for byte, but for the sign-out form's CSRF token: Flask-WTF signs it with the time in
    # seconds, so two requests either side of a second boundary differ there (seen in a random-order run).
    assert _without_csrf_token(forbidden.get_data()) == _without_csrf_token(missing.get_data())
    assert b'name="csrf_token" value="' in forbidden.get_data()


def _without_csrf_token(body: bytes) -> bytes:
    return re.sub(rb'(name="csrf_token" value=")[^"]+"', rb'\1"', body)


def test_district_document_visible_to_both(as_sonnam, as_phohien, world):
    for client in (as_sonnam, as_phohien):
        for url in _document_urls(world, "district"):
            assert client.get(url).status_code == 200, url


def test_admin_sees_all(as_admin, world):
    data = _api_ids(as_admin, q="bao cao")
    assert {h["id"] for h in data["hits"]} == _ids(world, SONNAM_SEES | PHOHIEN_SEES)
    for key in ("lam_son", "an_tao", "district"):
        for url in _document_urls(world, key):
            assert as_admin.get(url).status_code == 200, url


def test_withheld_document_is_never_shown(as_admin, as_sonnam, world):
    for client in (as_admin, as_sonnam):
        assert client.get(f"/van-ban/{world.docs['withheld']}").status_code == 404
        assert client.get(f"/api/v1/documents/{world.docs['withheld']}").status_code == 404
        assert world.subjects["withheld"] not in client.get("/?q=nhân+sự").get_data(as_text=True)
