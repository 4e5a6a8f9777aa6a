"""Fonds pages from the real Hưng Yên mapping, dossier pages in order, the retention list; for archivists only."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from portal_helpers import PASSWORD, login
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import Dossier
from archive_core.settings import Settings
from archive_portal import create_app
from archive_portal.services.accounts import create_account
from archive_portal.services.units import import_mapping
from ingest.pipeline import IngestOptions, ingest_package
from specimens.signing import render_pdf
from tests.ingest.packaging import write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
HO_SO = """ma_ho_so,tieu_de,thoi_han_bao_quan,che_do_su_dung,ngay_bat_dau,ngay_ket_thuc
HS-2018-01,Hồ sơ đại hội đại biểu nhân dân phường,Vĩnh viễn,Không hạn chế,02/01/2018,28/12/2018
HS-2010-02,Hồ sơ hội nghị sơ kết,10 năm,Không hạn chế,05/01/2010,30/12/2010
HS-2024-03,Hồ sơ sắp xếp đơn vị hành chính,70 năm,Hạn chế,02/01/2024,30/12/2024
HS-CHUA-RO,Hồ sơ chưa ghi thời hạn,,,,
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("fonds")
    files = root / "pkg" / "files"
    files.mkdir(parents=True)
    rows = []
    for key, order, date in (("VB-3", "3", "10/03/2018"), ("VB-1", "1", "05/01/2018"), ("VB-2", "2", "01/02/2018")):
        (files / f"{key}.pdf").write_bytes(render_pdf([f"NGHỊ QUYẾT {key}", "Về việc tổ chức đại hội"]))
        rows.append({"ma_van_ban": key, "trich_yeu": f"Đại hội văn bản {key}", "ma_ho_so": "HS-2018-01",
                     "so_thu_tu": order, "ngay_ban_hanh": date, "tep_dinh_kem": f"files/{key}.pdf"})
    (root / "pkg" / "ho_so.csv").write_text(HO_SO, encoding="utf-8")
    from tests.ingest import packaging

    for column in ("ma_ho_so", "so_thu_tu"):
        if column not in packaging.COLUMNS:
            packaging.COLUMNS.append(column)
    package = write_package(root / "pkg", rows, unit_code="11950")
    archive = Archive.open(Settings.load(home=root / "home", secret_key="fonds-secret"))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
        create_account(session, username="luutru", role="archivist", password=PASSWORD)
        create_account(session, username="sonnam", role="lookup", new_unit_code="11983", password=PASSWORD)
    ingest_package(archive, package, IngestOptions(workers=1))
    app = create_app(archive=archive)
    clients = {}
    for username in ("luutru", "sonnam"):
        clients[username] = app.test_client()
        assert login(clients[username], username).status_code == 302
    yield archive, clients
    archive.close()


def test_fonds_page_tells_the_administrative_history_from_the_mapping(world):
    _, clients = world
    html = clients["luutru"].get("/luu-tru/phong/11950").get_data(as_text=True)
    assert "Phông Phường Lam Sơn" in html
    assert "thuộc Thành phố Hưng Yên (mã 323)" in html
    # The successor, the partners merged with it, and the resolution clause behind the row.
    assert "Phường Sơn Nam (mã 11983)" in html
    for partner in ("Xã Bảo Khê", "Xã Phú Cường", "Xã Hùng Cường", "Xã Ngọc Thanh"):
        assert partner in html
    assert "1666/NQ-UBTVQH15 — 95." in html and "01/07/2025" in html
    assert "05/01/2018 – 10/03/2018" in html and "3 văn bản" in html


def test_fonds_description_exports_as_json(world):
    _, clients = world
    response = clients["luutru"].get("/luu-tru/phong/11950/mo-ta.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["ma_phong"] == "11950" and data["so_luong"]["van_ban"] == 3 and data["so_luong"]["ho_so"] == 4
    [successor] = data["don_vi_ke_thua"]
    assert successor["ma"] == "11983" and successor["can_cu"].startswith("1666/NQ-UBTVQH15")
    assert {c["ten"] for c in successor["cung_voi"]} >= {"Xã Bảo Khê", "Xã Phú Cường"}


def test_dossier_page_lists_its_documents_in_order(world):
    archive, clients = world
    with archive.db.session() as session:
        dossier_id = session.scalar(select(Dossier.id).where(Dossier.code == "HS-2018-01"))
    html = clients["luutru"].get(f"/luu-tru/ho-so/{dossier_id}").get_data(as_text=True)
    assert "Hồ sơ đại hội đại biểu nhân dân phường" in html and "Vĩnh viễn" in html
    positions = [html.index(f"Đại hội văn bản VB-{n}") for n in (1, 2, 3)]
    assert positions == sorted(positions)


def test_retention_list_by_fonds_and_year(world):
    _, clients = world
    html = clients["luutru"].get("/luu-tru/han-bao-quan").get_data(as_text=True)
    transfer, _, rest = html.partition("Hết thời hạn bảo quản")
    ended, _, unknown = rest.partition("Chưa xác định được hạn")
    assert "HS-2018-01" in transfer and "2024" in transfer  # permanent, ended 2018: historical archive by 2024
    assert "HS-2010-02" in ended and "2020" in ended  # 10 years from 2010
    assert "HS-CHUA-RO" in unknown
    assert "HS-2024-03" not in html  # 70 years from 2024: not due


def test_lookup_accounts_do_not_reach_these_pages(world):
    _, clients = world
    for url in ("/luu-tru/phong/", "/luu-tru/phong/11950", "/luu-tru/phong/11950/mo-ta.json",
                "/luu-tru/ho-so/1", "/luu-tru/han-bao-quan"):
        assert clients["sonnam"].get(url).status_code == 403, url
