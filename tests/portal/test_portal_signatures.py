"""Signed PDFs through real ingest: the verdict on the document page, in the API (schema-checked) and as a filter."""
from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from portal_helpers import PASSWORD, login
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import Document
from archive_core.settings import Settings
from archive_portal import create_app
from archive_portal.services.accounts import create_account
from archive_portal.services.tokens import create_token
from archive_portal.services.units import import_mapping
from indexes.base import SearchQuery
from ingest.pipeline import IngestOptions, ingest_package
from specimens.signing import TestCA, render_pdf, sign_pdf
from tests.ingest.packaging import write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"


@pytest.fixture(scope="module")
def signed_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("signed")
    ca = TestCA()
    official = ca.issue("Nguyễn Văn Hùng", "UBND phường Lam Sơn")
    tsa = ca.issue("Dịch vụ cấp dấu thời gian thử nghiệm", timestamping=True)
    files = root / "pkg" / "files"
    files.mkdir(parents=True)
    (files / "da-ky.pdf").write_bytes(sign_pdf(render_pdf(), ca, official, tsa=tsa))
    tampered = bytearray(sign_pdf(render_pdf(["QUYẾT ĐỊNH", "Về việc khen thưởng"]), ca, official))
    tampered[tampered.index(b"stream") + 40] ^= 0x01
    (files / "bi-sua.pdf").write_bytes(bytes(tampered))
    package = write_package(root / "pkg", [
        {"ma_van_ban": "VB-KY", "so_ky_hieu": "74/QĐ-UBND", "trich_yeu": "Phê duyệt kế hoạch sắp xếp",
         "tep_dinh_kem": "files/da-ky.pdf"},
        {"ma_van_ban": "VB-SUA", "so_ky_hieu": "75/QĐ-UBND", "trich_yeu": "Khen thưởng tập thể",
         "tep_dinh_kem": "files/bi-sua.pdf"},
    ])
    settings = Settings.load(home=root / "home", secret_key="test-secret-key",
                             trust_roots=str(ca.write_roots(root / "roots.pem")))
    archive = Archive.open(settings)
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
        create_account(session, username="luutru", role="archivist", password=PASSWORD)
        account, _ = create_account(session, username="sonnam", role="lookup", new_unit_code="11983",
                                    password=PASSWORD)
        _, token = create_token(session, account, days=1, name="test")
    ingest_package(archive, package, IngestOptions(workers=1))
    with archive.db.session() as session:
        ids = {d.ma_van_ban: d.id for d in session.scalars(select(Document))}
    yield archive, ids, token
    archive.close()


@pytest.fixture(scope="module")
def app(signed_home):
    return create_app(archive=signed_home[0])


def test_document_page_shows_the_verified_signature(app, signed_home):
    _, ids, _ = signed_home
    client = app.test_client()
    login(client, "luutru")
    html = client.get(f"/van-ban/{ids['VB-KY']}").get_data(as_text=True)
    assert "Chữ ký số hợp lệ" in html
    assert "Nguyễn Văn Hùng" in html and "Root CA thử nghiệm" in html
    assert "Nội dung đã ký còn nguyên vẹn" in html and "Không thay đổi sau khi ký" in html
    assert "(tin cậy)" in html  # the timestamp
    html = client.get(f"/van-ban/{ids['VB-SUA']}").get_data(as_text=True)
    assert "Tệp đã bị sửa đổi sau khi ký" in html and "Nội dung đã ký không khớp chữ ký" in html


def test_api_gives_the_verdict_and_conforms_to_the_schema(app, signed_home):
    _, ids, token = signed_home
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema["/api/v1/documents/{doc_id}"]["GET"]
    answers = {}
    for key, doc_id in ids.items():
        case = schema.make_case(operation=operation, path_parameters={"doc_id": doc_id})
        response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                          checks=[not_a_server_error, response_schema_conformance])
        answers[key] = response.json()
    good = answers["VB-KY"]
    assert good["signature_status"] == "hop_le"
    [signature] = good["files"][0]["signatures"]["signatures"]
    assert signature["signer"] == "Nguyễn Văn Hùng" and signature["intact"] and signature["timestamp_trusted"]
    assert answers["VB-SUA"]["signature_status"] == "bi_sua_doi"


def test_search_filter_finds_only_validly_signed_documents(signed_home):
    archive, ids, _ = signed_home
    hits = archive.engine.search(SearchQuery(scope=None, signature="hop_le")).hits
    assert [h.id for h in hits] == [ids["VB-KY"]]


def test_search_page_and_api_filter_có_chữ_ký_số_hợp_lệ(app, signed_home):
    _, ids, token = signed_home
    client = app.test_client()
    login(client, "sonnam")
    everything = client.get("/?q=").get_data(as_text=True)
    assert "Có chữ ký số hợp lệ" in everything
    assert "Phê duyệt kế hoạch sắp xếp" in everything and "Khen thưởng tập thể" in everything
    signed = client.get("/?chu_ky=hop_le").get_data(as_text=True)
    assert "Phê duyệt kế hoạch sắp xếp" in signed and "Khen thưởng tập thể" not in signed
    answer = app.test_client().get("/api/v1/search?chu_ky=hop_le",
                                   headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [h["id"] for h in answer["hits"]] == [ids["VB-KY"]]
