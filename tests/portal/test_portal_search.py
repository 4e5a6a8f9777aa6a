"""The search page and API: folding, filters, dates, pagination, errors, hostile input."""
from __future__ import annotations

import pytest


def test_query_without_diacritics_finds_with(as_admin, world):
    for q in ("giao thong nong thon", "GIAO THÔNG nông thôn", "phong chong dich benh"):
        data = as_admin.get("/api/v1/search", query_string={"q": q}).get_json()
        assert data["total"] == 1, q
    html = as_admin.get("/", query_string={"q": "sap xep don vi"}).get_data(as_text=True)
    assert world.subjects["lam_son"] in html
    assert "<mark>" in html  # the engine's highlight is rendered, not escaped
    assert "&lt;mark&gt;" not in html


def test_number_search(as_admin, world):
    data = as_admin.get("/api/v1/search", query_string={"q": "74/KH-UBND"}).get_json()
    assert data["hits"][0]["id"] == world.docs["lam_son"]
    data = as_admin.get("/api/v1/search", query_string={"number": "305/cv-ubnd"}).get_json()
    assert [h["id"] for h in data["hits"]] == [world.docs["district"]]


def test_dates_shown_dd_mm_yyyy(as_admin):
    html = as_admin.get("/", query_string={"q": "báo cáo"}).get_data(as_text=True)
    assert "15/01/2025" in html and "10/04/2024" in html and "01/12/2023" in html
    assert "2025-01-15" not in html


def test_filters(as_admin, world):
    def ids(**params):
        return {h["id"] for h in as_admin.get("/api/v1/search", query_string=params).get_json()["hits"]}

    assert ids(q="bao cao", direction="den") == {world.docs["an_tao"]}
    assert ids(q="bao cao", type="Công văn") == {world.docs["district"]}
    assert ids(q="bao cao", **{"from": "01/01/2024", "to": "31/12/2024"}) == {world.docs["lam_son"]}
    assert ids(q="bao cao", **{"from": "2025-01-01"}) == {world.docs["district"]}
    assert ids(q="bao cao", unit=["11950", "11956"]) == {world.docs["lam_son"], world.docs["an_tao"]}


def test_facets_have_labels_and_working_links(as_admin, world):
    data = as_admin.get("/api/v1/search", query_string={"q": "bao cao"}).get_json()
    labels = {v["value"]: v["label"] for v in data["facets"]["unit_code"]["values"]}
    assert labels == {"11950": "Phường Lam Sơn", "11956": "Phường An Tảo", "323": "Thành phố Hưng Yên"}
    assert {v["label"] for v in data["facets"]["direction"]["values"]} == {"Đến", "Đi", "Nội bộ"}
    html = as_admin.get("/", query_string={"q": "bao cao"}).get_data(as_text=True)
    assert 'href="/?q=bao+cao&amp;direction=den"' in html
    html = as_admin.get("/?q=bao+cao&direction=den").get_data(as_text=True)
    assert "Tìm thấy <strong>1</strong>" in html


def test_clicking_a_chosen_facet_value_again_takes_it_away_and_a_year_sets_its_dates(as_admin, world):
    import html as html_lib
    import re

    def link(page: str, label: str) -> str:
        found = re.search(r'<a href="([^"]+)">' + re.escape(label) + "</a>", page)
        assert found, label
        return html_lib.unescape(found.group(1))

    everything = as_admin.get("/?q=bao+cao").get_data(as_text=True)
    assert "Tìm thấy <strong>3</strong>" in everything
    chosen = as_admin.get(link(everything, "Đến")).get_data(as_text=True)
    assert "Tìm thấy <strong>1</strong>" in chosen
    again = link(chosen, "Đến")  # chosen: clicking it again takes it away, the words stay
    assert "direction" not in again and "q=bao+cao" in again
    assert "Tìm thấy <strong>3</strong>" in as_admin.get(again).get_data(as_text=True)
    years = re.findall(r'<a href="([^"]*from=01/01/(\d{4})[^"]*)">\d{4}</a>', everything)
    assert years
    url, year = years[0]
    assert f"to=31/12/{year}" in html_lib.unescape(url)
    assert "Tìm thấy <strong>" in as_admin.get(html_lib.unescape(url)).get_data(as_text=True)


def test_sort_and_pagination(app, as_admin, world, monkeypatch):
    data = as_admin.get("/api/v1/search", query_string={"q": "bao cao", "sort": "date_asc"}).get_json()
    assert [h["id"] for h in data["hits"]] == [world.docs[k] for k in ("an_tao", "lam_son", "district")]
    monkeypatch.setattr(world.archive, "settings", world.archive.settings.__class__(
        **{**world.archive.settings.__dict__, "search_page_size": 2}))
    html = as_admin.get("/", query_string={"q": "bao cao"}).get_data(as_text=True)
    assert "Trang 1 / 2" in html and "Trang sau" in html
    html = as_admin.get("/", query_string={"q": "bao cao", "page": "2"}).get_data(as_text=True)
    assert "Trang 2 / 2" in html and "Trang trước" in html


def test_no_results_message(as_admin):
    html = as_admin.get("/", query_string={"q": "khủng long bạo chúa"}).get_data(as_text=True)
    assert "Không tìm thấy văn bản nào phù hợp" in html


@pytest.mark.parametrize("params", [
    {"q": "a" * 600},
    {"q": "!!! ??? ***"},
    {"from": "31/02/2024"},
    {"from": "hôm qua"},
    {"from": "01/01/2025", "to": "01/01/2024"},
    {"direction": "sang-ngang"},
    {"page": "100000"},
])
def test_user_errors_are_explained(as_admin, params):
    r = as_admin.get("/", query_string=params)
    assert r.status_code == 200
    assert 'class="alert"' in r.get_data(as_text=True)
    api = as_admin.get("/api/v1/search", query_string=params)
    assert api.status_code == 400 and api.get_json()["error"]


HOSTILE = [
    '"', '"""', "'", "a OR b", "NEAR(a b)", "a AND NOT", "*", "^", "(", ")", "{}", "col:val", "subject:x",
    "-", "--", "- -", '-"', "\x00", "\u202e", "%", "_", "\\", "'; DROP TABLE document; --",
    "<script>alert(1)</script>", "ế" * 400, "a/b/c/d/e/f/g", "1/", "/1", "a" * 499, "🙂🙂",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_500(as_sonnam, q):
    for url in ("/", "/api/v1/search"):
        r = as_sonnam.get(url, query_string={"q": q, "number": q, "unit": q, "type": q, "sort": q, "page": q,
                                             "from": q, "to": q})
        assert r.status_code in (200, 400), (url, q, r.status_code)
        if url == "/":
            assert "<script>alert(1)</script>" not in r.get_data(as_text=True)
        else:
            assert r.is_json


def test_invalid_utf8_in_query_string(as_sonnam):
    for url in ("/?q=%ED%A0%80%FF", "/api/v1/search?q=%FF%FE&from=%C0"):
        assert as_sonnam.get(url).status_code in (200, 400), url


def test_hostile_paths_never_500(as_sonnam):
    for url in ["/van-ban/abc", "/van-ban/99999999999999999999999", "/van-ban/1/tep/x/tai-ve",
                "/van-ban/1/tep/1/trang/1.jpg", "/%00", "/api/v1/documents/-1"]:
        r = as_sonnam.get(url)
        assert r.status_code == 404, url
        assert "Traceback" not in r.get_data(as_text=True)


def test_number_field_partial_and_its_message(as_admin, world):
    """'305' and '305/CV' find 305/CV-UBND; a number that matches nothing says so (not 'type without diacritics')."""
    for number in ("305", "305/cv", "305/CV-UBND"):
        data = as_admin.get("/api/v1/search", query_string={"number": number}).get_json()
        assert [h["id"] for h in data["hits"]] == [world.docs["district"]], number
    html = as_admin.get("/", query_string={"number": "3051"}).get_data(as_text=True)
    assert "Không có văn bản nào có số ký hiệu “3051”" in html
    assert "gõ không dấu" not in html
