"""A "Hạn chế" dossier's documents: hidden from lookup accounts not allowed restricted material, on every route.

World: one real bag of old unit 11950 (→ new 11983) ingested with its ho_so.csv, where dossier
HS-HC is restricted and HS-MO is not.  Accounts: a lookup of 11983 (not allowed), a lookup of
11983 allowed restricted material, an archivist.  Every document route of the app (every rule
taking a ``doc_id``) is tried, by session and by token; and the search, pages and API.  On both backends
(``sqlite-fts``, ``postgresql-opensearch``).
"""
from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import bagit
import pytest
import schemathesis
from flask import url_for
from portal_helpers import PASSWORD, login
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import Account, Document, DocumentFile, Dossier
from archive_core.settings import Settings
from archive_portal import create_app
from archive_portal.services.accounts import create_account
from archive_portal.services.tokens import create_token
from archive_portal.services.units import import_mapping
from ingest.pipeline import IngestOptions, ingest_package
from specimens.signing import render_pdf
from tests.backends import backend_overrides, close_archive
from tests.ingest.packaging import COLUMNS

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
MARK = "kiemtrahanche"
ALLOWED = {"sonnam": False, "sonnam.hc": True, "luutru": True}


def write_bag(root: Path, rows: list[dict]) -> Path:
    """documents.csv with the dossier column (the shared packaging COLUMNS are left as they are), bagged."""
    with open(root / "documents.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*COLUMNS, "ma_ho_so"])
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in writer.fieldnames})
    bagit.make_bag(str(root), bag_info={"Source-Organization": "UBND phường Lam Sơn", "Unit-Code": "11950",
                                        "Unit-Level": "xa", "Parent-Unit-Code": "323"}, checksums=["sha256"])
    return root


@pytest.fixture(scope="module")
def world(request, tmp_path_factory, backend):
    root = tmp_path_factory.mktemp("restricted")
    files = root / "pkg" / "files"
    files.mkdir(parents=True)
    rows = []
    for key, dossier in (("VB-HC", "HS-HC"), ("VB-MO", "HS-MO")):
        (files / f"{key}.pdf").write_bytes(render_pdf([f"QUYẾT ĐỊNH {MARK}", f"Văn bản {key}"]))
        rows.append({"ma_van_ban": key, "trich_yeu": f"Văn bản {MARK} {key}", "ma_ho_so": dossier,
                     "tep_dinh_kem": f"files/{key}.pdf"})
    (root / "pkg" / "ho_so.csv").write_text(
        "ma_ho_so,tieu_de,che_do_su_dung\nHS-HC,Hồ sơ nhân sự,Hạn chế\nHS-MO,Hồ sơ hội nghị,Không hạn chế\n",
        encoding="utf-8")
    package = write_bag(root / "pkg", rows)
    archive = Archive.open(Settings.load(home=root / "home", secret_key="restricted-secret",
                                         **backend_overrides(request, backend)))
    tokens = {}
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
        for username, allowed in ALLOWED.items():
            role = "archivist" if username == "luutru" else "lookup"
            account, _ = create_account(session, username=username, role=role, password=PASSWORD,
                                        new_unit_code=None if role == "archivist" else "11983")
            account.may_see_restricted = allowed
            session.flush()
            _, tokens[username] = create_token(session, account, days=1, name="test")
    ingest_package(archive, package, IngestOptions(workers=1))
    with archive.db.session() as session:
        docs = {d.ma_van_ban: d.id for d in session.scalars(select(Document))}
        files_of = {d: session.scalar(select(DocumentFile.id).where(DocumentFile.document_id == i))
                    for d, i in docs.items()}
    app = create_app(archive=archive)
    clients = {}
    for username in ALLOWED:
        client = app.test_client()
        assert login(client, username).status_code == 302
        clients[username] = client
    yield archive, app, docs, files_of, clients, tokens
    close_archive(archive)


def document_urls(app, doc_id: int, file_id: int) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "doc_id" not in rule.arguments or "GET" not in rule.methods:
                continue
            values = {"doc_id": doc_id, "file_id": file_id, "page_no": 1}
            urls.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return urls


def test_every_document_route_hides_restricted_documents_from_lookups_not_allowed(world):
    _, app, docs, files_of, clients, tokens = world
    wrong = []
    for key in docs:
        urls = document_urls(app, docs[key], files_of[key])
        assert len(urls) >= 5
        for username, allowed in ALLOWED.items():
            expected = 200 if allowed or key == "VB-MO" else 404
            for url in urls:
                got = clients[username].get(url).status_code
                if got != expected:
                    wrong.append((username, url, got, expected))
                if url.startswith("/api/"):
                    got = app.test_client().get(url, headers={"Authorization": f"Bearer {tokens[username]}"}).status_code
                    if got != expected:
                        wrong.append((username, "token", url, got, expected))
    assert not wrong, wrong


def test_search_leaves_restricted_documents_out_unless_allowed(world):
    _, app, docs, _, clients, tokens = world
    for username, allowed in ALLOWED.items():
        expected = {docs["VB-HC"], docs["VB-MO"]} if allowed else {docs["VB-MO"]}
        answer = app.test_client().get(f"/api/v1/search?q={MARK}",
                                       headers={"Authorization": f"Bearer {tokens[username]}"}).get_json()
        assert {h["id"] for h in answer["hits"]} == expected, username
        assert answer["total"] == len(expected)
        page = clients[username].get(f"/?q={MARK}").get_data(as_text=True)
        assert (f"Văn bản {MARK} VB-HC" in page) is allowed, username


def test_the_permission_is_read_at_each_request(world):
    archive, app, docs, _, clients, tokens = world
    with archive.db.transaction() as session:
        session.scalar(select(Account).where(Account.username == "sonnam")).may_see_restricted = True
    try:
        assert clients["sonnam"].get(f"/van-ban/{docs['VB-HC']}").status_code == 200
    finally:
        with archive.db.transaction() as session:
            session.scalar(select(Account).where(Account.username == "sonnam")).may_see_restricted = False
    assert clients["sonnam"].get(f"/van-ban/{docs['VB-HC']}").status_code == 404


def test_document_page_api_and_oai_carry_the_dossier(world):
    archive, app, docs, _, clients, tokens = world
    html = clients["luutru"].get(f"/van-ban/{docs['VB-HC']}").get_data(as_text=True)
    assert "HS-HC" in html and "Hồ sơ nhân sự" in html and "Hạn chế" in html
    assert "ho_so=HS-HC" in html  # the link to the dossier's documents in the search
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    case = schema.make_case(operation=schema["/api/v1/documents/{doc_id}"]["GET"],
                            path_parameters={"doc_id": docs["VB-HC"]})
    answer = case.call_and_validate(headers={"Authorization": f"Bearer {tokens['sonnam.hc']}"},
                                    checks=[not_a_server_error, response_schema_conformance]).json()
    assert answer["dossier"] == {"code": "HS-HC", "title": "Hồ sơ nhân sự", "order": None, "retention": "",
                                 "access": "han_che", "access_label": "Hạn chế"}
    oai_archive = Archive.open(replace(archive.settings, oai_enabled=True))
    try:
        oai_app = create_app(archive=oai_archive)
        for username, allowed in (("sonnam", False), ("sonnam.hc", True)):
            xml = oai_app.test_client().get("/oai?verb=ListRecords&metadataPrefix=oai_dc", headers={
                "Authorization": f"Bearer {tokens[username]}"}).get_data(as_text=True)
            assert ("Hồ sơ HS-HC" in xml) is allowed and "Hồ sơ HS-MO" in xml, username
            assert ("Hạn chế sử dụng" in xml) is allowed
    finally:
        oai_archive.close()  # the same database and index as the world's archive: closed, not dropped


def test_dossier_page_keeps_scope_and_restriction(world):
    archive, app, docs, _, clients, _ = world
    with archive.db.transaction() as session:
        if session.scalar(select(Account).where(Account.username == "phohien")) is None:  # a rerun finds it
            create_account(session, username="phohien", role="lookup", new_unit_code="11953", password=PASSWORD)
        ids = {d.code: d.id for d in session.scalars(select(Dossier))}
    other = app.test_client()
    assert login(other, "phohien").status_code == 302
    assert clients["sonnam"].get(f"/ho-so/{ids['HS-HC']}").status_code == 404
    page = clients["sonnam"].get(f"/ho-so/{ids['HS-MO']}")
    assert page.status_code == 200 and f"Văn bản {MARK} VB-MO" in page.get_data(as_text=True)
    allowed = clients["sonnam.hc"].get(f"/ho-so/{ids['HS-HC']}").get_data(as_text=True)
    assert "Hồ sơ nhân sự" in allowed and f"Văn bản {MARK} VB-HC" in allowed
    for code in ("HS-HC", "HS-MO"):  # another new unit's account: as if they did not exist
        assert other.get(f"/ho-so/{ids[code]}").status_code == 404
    assert clients["luutru"].get(f"/ho-so/{ids['HS-HC']}").status_code == 200
