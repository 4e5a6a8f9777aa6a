"""The handover record (biên bản bàn giao): per package and per old unit, in the portal, HTML and CSV."""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from archive_portal import create_app
from archive_core.context import Archive
from archive_portal.services.accounts import create_account
from archive_portal.services.units import import_mapping
from archive_core.settings import Settings
from ingest.pipeline import IngestOptions, ingest_package
from specimens import make_specimens, render_pdf
from tests.ingest.packaging import row_for, write_package

from portal_helpers import PASSWORD, login

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"


@pytest.fixture(scope="module")
def handover_world(tmp_path_factory):
    home = tmp_path_factory.mktemp("handover")
    archive = Archive.open(Settings.load(home=home / "home", secret_key="k"))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
        create_account(session, username="luutru", role="archivist", password=PASSWORD)
        create_account(session, username="sonnam", role="lookup", new_unit_code="11983", password=PASSWORD)
    root = home / "bag"
    (root / "files").mkdir(parents=True)
    specs = make_specimens(4, seed=41, issuer="UBND phường Lam Sơn")
    rows = []
    for index, spec in enumerate(specs[:3], start=1):
        render_pdf(spec, root / "files" / f"{index}.pdf")
        rows.append(row_for(spec, f"H-{index}", f"files/{index}.pdf", do_mat="Mật" if index == 3 else ""))
    (root / "files" / "rong.pdf").write_bytes(b"")
    rows.append(row_for(specs[3], "H-4", "files/khong-co.pdf"))
    package = write_package(root, rows, unit_code="11950")
    package_id = ingest_package(archive, package, IngestOptions(workers=1))
    declared = {}
    for line in (package / "manifest-sha256.txt").read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        declared[path.removeprefix("data/")] = digest
    app = create_app(archive=archive)
    yield app, package_id, declared
    archive.close()


def _signed_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_archivist_reads_the_package_handover_and_it_reconciles(handover_world):
    app, package_id, declared = handover_world
    client = _signed_in(app, "luutru")
    page = client.get(f"/luu-tru/goi/{package_id}/bien-ban")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "BIÊN BẢN BÀN GIAO DỮ LIỆU" in html and "Phường Lam Sơn" in html
    assert "Số liệu đối chiếu khớp đầy đủ" in html and "KHÔNG KHỚP" not in html
    listing = client.get(f"/luu-tru/goi/{package_id}/bien-ban.csv")
    assert listing.status_code == 200 and "attachment" in listing.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(listing.get_data(as_text=True).lstrip("\ufeff"))))
    by_path = {r["duong_dan"]: r for r in rows}
    # every file the bag declared is listed, with the bag's own checksum, and nothing else
    assert set(by_path) == set(declared)
    for path, digest in declared.items():
        if by_path[path]["ket_qua"] != "Từ chối":
            assert by_path[path]["sha256"] == digest
    assert by_path["files/rong.pdf"]["ket_qua"] == "Từ chối" and "rỗng" in by_path["files/rong.pdf"]["ly_do"]
    assert by_path["files/3.pdf"]["ket_qua"] == "Giữ lại (mật)"  # values in Vietnamese, as the record is
    assert by_path["files/1.pdf"]["ma_van_ban"] == "H-1"


def test_unit_handover_and_downloadable_printable_page(handover_world):
    app, package_id, _ = handover_world
    client = _signed_in(app, "luutru")
    page = client.get("/luu-tru/don-vi/11950/bien-ban")
    assert page.status_code == 200 and f"#{package_id}" in page.get_data(as_text=True)
    printable = client.get("/luu-tru/don-vi/11950/bien-ban.html")
    body = printable.get_data(as_text=True)
    assert printable.status_code == 200 and "<style>" in body and "ĐẠI DIỆN BÊN GIAO" in body
    assert client.get("/luu-tru/don-vi/99999/bien-ban").status_code == 404
    report = client.get(f"/luu-tru/goi/{package_id}")
    assert report.status_code == 200 and "Thiếu tệp đính kèm" in report.get_data(as_text=True)


def test_lookup_accounts_cannot_open_archivist_pages(handover_world):
    app, package_id, _ = handover_world
    client = _signed_in(app, "sonnam")
    for url in ("/luu-tru/", f"/luu-tru/goi/{package_id}", f"/luu-tru/goi/{package_id}/bien-ban.csv",
                "/luu-tru/don-vi/11950/bien-ban", f"/luu-tru/goi/{package_id}/bao-cao.json"):
        assert client.get(url).status_code == 403, url
