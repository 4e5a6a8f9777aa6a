"""Dossiers from ho_so.* and ma_ho_so: fields, order, retention, inherited access, through real ingest."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile, Dossier
from archive_core.settings import Settings
from indexes.base import SearchQuery
from ingest.dossier_list import read_dossier_list
from ingest.dossiers import HAN_CHE, KHONG_HAN_CHE, parse_access, parse_retention
from ingest.pipeline import IngestOptions, ingest_package
from ingest.report import build_report
from specimens.signing import render_pdf

from .packaging import write_package

HO_SO = [
    {"Mã hồ sơ": "HS-2024-07", "Tiêu đề": "Hồ sơ sắp xếp đơn vị hành chính cấp xã năm 2024",
     "Thời hạn bảo quản": "Vĩnh viễn", "Chế độ sử dụng": "Hạn chế", "Mức độ tin cậy": "Bản chính",
     "Người lập": "Trần Thị B", "Ngày bắt đầu": "02/01/2024", "Ngày kết thúc": "30/12/2024",
     "Từ khóa": "sáp nhập; đơn vị hành chính", "Số lượng văn bản": "2", "Số lượng trang": "2", "Kho": "Kệ 3"},
    {"Mã hồ sơ": "HS-2024-08", "Tiêu đề": "Hồ sơ hội nghị tổng kết", "Thời hạn bảo quản": "10 năm",
     "Chế độ sử dụng": "Không hạn chế", "Ngày bắt đầu": "ngày 5 tháng 1 năm 2024", "Ngày kết thúc": "31/13/2024"},
]


def package(root: Path) -> Path:
    files = root / "files"
    files.mkdir(parents=True)
    rows = []
    # A row's own che_do_su_dung: "Hạn chế" restricts it in an open dossier; "Không hạn chế" cannot open a
    # document of a restricted dossier.
    for n, (dossier, order, own) in enumerate([("HS-2024-07", "2", ""), ("HS-2024-07", "1", "Không hạn chế"),
                                               ("HS-2024-08", "1", "Hạn chế"), ("HS-2024-09", "x", "")], start=1):
        (files / f"vb{n}.pdf").write_bytes(render_pdf([f"QUYẾT ĐỊNH số {n}", f"Về việc sắp xếp lần {n}"]))
        rows.append({"ma_van_ban": f"VB-{n}", "trich_yeu": f"Sắp xếp đơn vị lần {n}", "ma_ho_so": dossier,
                     "so_thu_tu": order, "che_do_su_dung": own, "tep_dinh_kem": f"files/vb{n}.pdf"})
    with open(root / "ho_so.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(HO_SO[0]))
        writer.writeheader()
        for row in HO_SO:
            writer.writerow(row)
    from . import packaging

    packaging.COLUMNS.append("so_thu_tu") if "so_thu_tu" not in packaging.COLUMNS else None
    packaging.COLUMNS.append("ma_ho_so") if "ma_ho_so" not in packaging.COLUMNS else None
    packaging.COLUMNS.append("che_do_su_dung") if "che_do_su_dung" not in packaging.COLUMNS else None
    return write_package(root, rows)


@pytest.fixture()
def archive(tmp_path):
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    ingest_package(archive, package(tmp_path / "pkg"), IngestOptions(workers=1))
    yield archive
    archive.close()


def test_dossiers_are_read_with_their_fields(archive):
    with archive.db.session() as session:
        dossiers = {d.code: d for d in session.scalars(select(Dossier))}
    assert set(dossiers) == {"HS-2024-07", "HS-2024-08", "HS-2024-09"}
    kept = dossiers["HS-2024-07"]
    assert kept.title == "Hồ sơ sắp xếp đơn vị hành chính cấp xã năm 2024" and kept.unit_code == "11950"
    assert kept.permanent and kept.retention_years is None and kept.access == HAN_CHE
    assert kept.reliability == "Bản chính" and kept.creator == "Trần Thị B"
    assert kept.start_date.isoformat() == "2024-01-02" and kept.end_date.isoformat() == "2024-12-30"
    assert kept.registered_documents == 2 and kept.extra == {"Kho": "Kệ 3"} and kept.origin == "list"
    short = dossiers["HS-2024-08"]
    assert short.retention_years == 10 and short.access == KHONG_HAN_CHE
    assert short.start_date.isoformat() == "2024-01-05"
    assert short.end_date is None and short.end_date_raw == "31/13/2024" and short.flags
    # Named only on a row: a dossier of its own, code only.
    assert dossiers["HS-2024-09"].origin == "rows" and dossiers["HS-2024-09"].title == ""
    report = build_report(archive, kept.package_id)
    assert [(d["code"], d["access"]) for d in report["dossiers"]] == [
        ("HS-2024-07", "Hạn chế"), ("HS-2024-08", "Không hạn chế"), ("HS-2024-09", "Không ghi")]
    assert any("31/13/2024" in f for f in report["dossiers"][1]["flags"])


def test_documents_keep_their_order_and_inherit_access(archive):
    with archive.db.session() as session:
        docs = {d.ma_van_ban: d for d in session.scalars(select(Document))}
        filenames = set(session.scalars(select(DocumentFile.filename)))
    assert "ho_so.csv" not in filenames  # the list is no document
    assert set(docs) == {"VB-1", "VB-2", "VB-3", "VB-4"}
    assert (docs["VB-1"].dossier_order, docs["VB-2"].dossier_order) == (2, 1)
    assert docs["VB-4"].dossier_order is None and any("so_thu_tu" in f for f in docs["VB-4"].flags)
    assert [d for d in docs if docs[d].restricted] == ["VB-1", "VB-2", "VB-3"]
    assert docs["VB-3"].extra == {"che_do_su_dung": "Hạn chế"}
    everyone = {h.id for h in archive.engine.search(SearchQuery(scope=None)).hits}
    allowed = {h.id for h in archive.engine.search(SearchQuery(scope=None, restricted_ok=True)).hits}
    assert everyone == {docs["VB-4"].id}
    assert allowed == {d.id for d in docs.values()}
    by_dossier = archive.engine.search(SearchQuery(scope=None, restricted_ok=True, dossiers=("HS-2024-07",)))
    assert {h.id for h in by_dossier.hits} == {docs["VB-1"].id, docs["VB-2"].id}


def test_a_later_list_restricts_documents_already_indexed(archive, tmp_path):
    root = tmp_path / "pkg2"
    root.mkdir()
    (root / "ho_so.csv").write_text("ma_ho_so,che_do_su_dung\nHS-2024-08,Hạn chế một phần\n", encoding="utf-8")
    (root / "documents.csv").write_text("ma_van_ban,trich_yeu,ma_ho_so\nVB-9,Bổ sung,HS-2024-08\n", encoding="utf-8")
    ingest_package(archive, root, IngestOptions(workers=1, unit_code="11950"))
    with archive.db.session() as session:
        assert session.scalar(select(Dossier.access).where(Dossier.code == "HS-2024-08")) == HAN_CHE
        restricted = set(session.scalars(select(Document.ma_van_ban).where(Document.restricted.is_(True))))
    assert restricted == {"VB-1", "VB-2", "VB-3", "VB-9"}
    assert {h.id for h in archive.engine.search(SearchQuery(scope=None)).hits} == {_id(archive, "VB-4")}


def _id(archive: Archive, key: str) -> int:
    with archive.db.session() as session:
        return session.scalar(select(Document.id).where(Document.ma_van_ban == key))


def test_xlsx_list_with_english_keys(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["FileCode", "Title", "Maintenance", "Rights", "StartDate", "DocTotal"])
    sheet.append(["HS-01", "Hồ sơ ngân sách", "70", "Không hạn chế", "2023-01-01", "5"])
    book.save(tmp_path / "ho_so.xlsx")
    [row], warnings = read_dossier_list(tmp_path / "ho_so.xlsx")
    assert row.values == {"ma_ho_so": "HS-01", "tieu_de": "Hồ sơ ngân sách", "thoi_han_bao_quan": "70",
                          "che_do_su_dung": "Không hạn chế", "ngay_bat_dau": "2023-01-01", "so_luong_van_ban": "5"}


@pytest.mark.parametrize("value, expected", [("Hạn chế", HAN_CHE), ("KHÔNG HẠN CHẾ", KHONG_HAN_CHE),
                                             ("", ""), ("mật nội bộ", HAN_CHE), ("khong_han_che", KHONG_HAN_CHE)])
def test_access_fails_closed(value, expected):
    assert parse_access(value) == expected


def test_retention_values():
    assert parse_retention("Vĩnh viễn")[:2] == (True, None)
    assert parse_retention("70 năm")[:2] == (False, 70)
    assert parse_retention("15")[2] and parse_retention("lâu dài")[2]


def test_a_re_export_restricting_a_document_restricts_the_one_in_the_archive(archive, tmp_path):
    root = tmp_path / "pkg3"
    root.mkdir()
    (root / "documents.csv").write_text("ma_van_ban,trich_yeu,che_do_su_dung\nVB-4,Sắp xếp đơn vị lần 4,Hạn chế\n",
                                        encoding="utf-8")
    ingest_package(archive, root, IngestOptions(workers=1, unit_code="11950"))
    with archive.db.session() as session:
        vb4 = session.scalars(select(Document).where(Document.ma_van_ban == "VB-4").order_by(Document.id)).first()
    assert vb4.restricted and any("Hạn chế sử dụng theo gói" in f for f in vb4.flags)
    assert _id(archive, "VB-4") not in {h.id for h in archive.engine.search(SearchQuery(scope=None)).hits}
