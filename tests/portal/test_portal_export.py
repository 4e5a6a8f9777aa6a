"""Export of search results: XLSX read back with openpyxl, CSV, the account's scope, the stated cap."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from archive_portal.services import export as export_service


def _xlsx(client, **params):
    r = client.get("/ket-qua.xlsx", query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert "attachment" in r.headers["Content-Disposition"] and ".xlsx" in r.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(r.data)).active
    return [[c for c in row] for row in sheet.iter_rows(values_only=True)]


def test_xlsx_has_the_visible_columns_of_the_search_in_scope(as_sonnam, world):
    rows = _xlsx(as_sonnam, q="báo cáo", sort="date_desc")
    assert "báo cáo" in rows[0][0] and "Đủ 2 văn bản" in rows[1][0]
    assert rows[2][:4] == ["STT", "Số, ký hiệu", "Ngày ban hành", "Trích yếu"]
    data = rows[3:]
    assert [r[1] for r in data] == ["305/CV-UBND", "74/KH-UBND"]  # newest first, as asked
    assert data[1][2] == "10/04/2024" and data[1][3] == world.subjects["lam_son"]
    assert data[1][7] == "Phường Lam Sơn" and data[1][10].endswith(f"/van-ban/{world.docs['lam_son']}")
    assert world.subjects["an_tao"] not in str(rows)  # another ward's document never leaves


def test_csv_and_the_link_on_the_results_page(as_sonnam, world):
    html = as_sonnam.get("/", query_string={"q": "bao cao", "number": "74"}).get_data(as_text=True)
    assert 'href="/ket-qua.csv?q=bao+cao&amp;number=74"' in html and "tối đa 5.000 văn bản" in html
    r = as_sonnam.get("/ket-qua.csv", query_string={"q": "bao cao", "number": "74"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][1] == "Số, ký hiệu" and [row[1] for row in rows[1:]] == ["74/KH-UBND"]


def test_a_search_beyond_the_cap_says_it_was_cut(as_admin, world, monkeypatch):
    monkeypatch.setattr(export_service, "EXPORT_CAP", 2)  # three documents, a cap of two
    rows = _xlsx(as_admin, q="báo cáo")
    assert "Chỉ xuất 2 văn bản đầu tiên trên tổng số 3" in rows[1][0]
    assert len(rows[3:]) == 2
    r = as_admin.get("/ket-qua.csv", query_string={"q": "báo cáo"})
    last = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))[-1]
    assert last[0].startswith("Chỉ xuất 2 văn bản đầu tiên")


def test_bad_input_and_unknown_format(as_sonnam):
    assert as_sonnam.get("/ket-qua.xlsx", query_string={"from": "31/02/2024"}).status_code == 400
    assert as_sonnam.get("/ket-qua.pdf").status_code == 404
