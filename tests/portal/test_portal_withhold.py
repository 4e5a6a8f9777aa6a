"""Secret documents on the portal (issue 10, item 1): on no route, for no lookup account, token or harvester.

World: one real bag of old unit 11950 (-> new 11983) ingested with ``archive ingest``: rows whose
``do_mat`` is ``Tối mật (A)`` and ``Mật - Khẩn``, a row with an empty ``do_mat`` whose PDF carries
the TUYỆT MẬT stamp (its text was read, then withheld), an ordinary document that talks about
"bí mật nhà nước", and one the archivist withholds on the page later.  Each carries a word of its
own.  Accounts: a lookup of 11983, an archivist, an admin; tokens for the lookup and the archivist.
On both backends (``sqlite-fts``, ``postgresql-opensearch``): ``archive ingest`` configured through the environment.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import url_for
from portal_helpers import PASSWORD, csrf_token, login
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import AuditEvent, Document, DocumentFile
from archive_core.settings import Settings
from archive_portal import create_app
from archive_portal.cli import main
from archive_portal.services.accounts import create_account
from archive_portal.services.tokens import create_token
from specimens import make_specimens, render_pdf
from tests.backends import archive_environment, backend_overrides, close_archive
from tests.ingest.packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
SECRET = {"VB-TOI": ("Tối mật (A)", "", "mottoimat"), "VB-KHAN": ("Mật - Khẩn", "", "haimatkhan"),
          "VB-DAU": ("", "TUYỆT MẬT", "badautuyetmat")}
ORDINARY = {"VB-THUONG": "bonthuong", "VB-RUT": "namrutlai"}
BODY = "Cán bộ phải giữ bí mật nhà nước và bảo mật thông tin"
USERS = {"sonnam": "lookup", "luutru": "archivist", "quantri": "admin"}
ODD_NAME = 'bao "cao"\r\nX-Chen: 1.pdf'


@pytest.fixture(scope="module")
def world(request, tmp_path_factory, backend):
    root = tmp_path_factory.mktemp("withhold")
    specs = make_specimens(6, seed=31, issuer="UBND phường Lam Sơn", year=2024)
    files = root / "pkg" / "files"
    files.mkdir(parents=True)
    rows = []
    for index, (key, (value, stamp, word)) in enumerate(SECRET.items()):
        spec = replace(specs[index], secrecy=stamp, body_paragraphs=[f"Mã {word}.", *specs[index].body_paragraphs])
        render_pdf(spec, files / f"{key}.pdf")
        rows.append(row_for(spec, key, f"files/{key}.pdf", do_mat=value))
    for index, (key, word) in enumerate(ORDINARY.items(), start=3):
        spec = replace(specs[index], body_paragraphs=[f"Mã {word}. {BODY}.", *specs[index].body_paragraphs])
        render_pdf(spec, files / f"{key}.pdf")
        rows.append(row_for(spec, key, f"files/{key}.pdf"))
    render_pdf(specs[5], files / ODD_NAME)  # no row names it: a document of its own, named by its path
    package = write_package(root / "pkg", rows, bag=False)
    home = root / "home"
    settings = Settings.load(home=home, secret_key="withhold-secret", **backend_overrides(request, backend))
    archive = Archive.open(settings)
    tokens = {}
    with archive.db.transaction() as session:
        from archive_portal.services.units import import_mapping

        import_mapping(session, UNITS_CSV)
        for username, role in USERS.items():
            account, _ = create_account(session, username=username, role=role, password=PASSWORD,
                                        new_unit_code="11983" if role == "lookup" else None)
            session.flush()
            if role != "admin":
                _, tokens[username] = create_token(session, account, days=1, name="test")
    result = CliRunner().invoke(main, ["ingest", "--json", "--workers", "1", "--unit", "11950", str(package)],
                                env=archive_environment(settings), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    with archive.db.session() as session:
        docs = {d.ma_van_ban: d.id for d in session.scalars(select(Document))}
        files_of = {k: session.scalar(select(DocumentFile.id).where(DocumentFile.document_id == i))
                    for k, i in docs.items()}
    app = create_app(archive=archive)
    oai_archive = Archive.open(replace(archive.settings, oai_enabled=True))
    oai = create_app(archive=oai_archive)
    clients = {}
    for username in USERS:
        client = app.test_client()
        assert login(client, username).status_code == 302
        clients[username] = client
    yield archive, app, oai, report, docs, files_of, clients, tokens
    oai_archive.close()  # the same database and index as ``archive``: closed, not dropped
    close_archive(archive)


def document_urls(app, doc_id: int, file_id: int) -> list[str]:
    """Every GET route of the app that takes a document id (page, files, inline, page images, text, API)."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "doc_id" not in rule.arguments or "GET" not in rule.methods:
                continue
            values = {"doc_id": doc_id, "file_id": file_id, "page_no": 1}
            urls.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return urls


def seen_by(world, key: str, word: str) -> dict[str, bool]:
    """Whether document ``key`` is found for ``word`` by each way in: the search page of each account,
    the API search of each token, and each token's OAI harvest (ListRecords, GetRecord)."""
    _, app, oai, _, docs, _, clients, tokens = world
    doc = docs[key]
    seen = {}
    for username, client in clients.items():
        html = client.get(f"/?q={word}").get_data(as_text=True)
        # a result links to the document, with the search carried along (/van-ban/N?q=...)
        seen[f"{username}:page"] = re.search(rf'href="/van-ban/{doc}(?:["?])', html) is not None
    for username, token in tokens.items():
        auth = {"Authorization": f"Bearer {token}"}
        answer = app.test_client().get(f"/api/v1/search?q={word}", headers=auth).get_json()
        seen[f"{username}:api"] = doc in {h["id"] for h in answer["hits"]}
        harvest = oai.test_client().get("/oai?verb=ListRecords&metadataPrefix=oai_dc", headers=auth)
        seen[f"{username}:oai"] = re.search(rf"<identifier>oai:[^<]*:{doc}</identifier>",
                                            harvest.get_data(as_text=True)) is not None
        identifier = re.search(r"<identifier>(oai:[^<]*:)\d+</identifier>", harvest.get_data(as_text=True))
        if identifier:
            record = oai.test_client().get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                                           f"{identifier.group(1)}{doc}", headers=auth).get_data(as_text=True)
            seen[f"{username}:oai-get"] = "idDoesNotExist" not in record
    return seen


def visible(world, key: str) -> dict[str, int]:
    """The status of every document route of ``key`` for each account and token."""
    _, app, _, _, docs, files_of, clients, tokens = world
    codes = {}
    for url in document_urls(app, docs[key], files_of[key]):
        for username, client in clients.items():
            codes[f"{username} {url}"] = client.get(url).status_code
        if url.startswith("/api/"):
            for username, token in tokens.items():
                got = app.test_client().get(url, headers={"Authorization": f"Bearer {token}"}).status_code
                codes[f"{username}:token {url}"] = got
    return codes


def test_the_report_names_what_withheld_each_secret_document(world):
    report = world[3]
    items = {(i["kind"], i["key"]): (i["outcome"], i["reason"]) for i in report["items"]}
    assert items[("row", "VB-TOI")][0] == "withheld" and "Tối mật (A)" in items[("row", "VB-TOI")][1]
    assert items[("row", "VB-KHAN")][0] == "withheld" and "Mật - Khẩn" in items[("row", "VB-KHAN")][1]
    assert items[("row", "VB-DAU")][0] == "withheld" and "TUYỆT MẬT" in items[("row", "VB-DAU")][1]
    assert items[("row", "VB-THUONG")][0] == "indexed" and items[("row", "VB-RUT")][0] == "indexed"


@pytest.mark.parametrize("key", sorted(SECRET))
def test_secret_documents_are_on_no_route_and_found_by_no_one(world, key):
    codes = visible(world, key)
    assert len(codes) >= 15
    assert {c for c in codes.values()} == {404}, codes
    assert not any(seen_by(world, key, SECRET[key][2]).values())


def test_ordinary_documents_that_mention_bi_mat_are_found(world):
    seen = seen_by(world, "VB-THUONG", ORDINARY["VB-THUONG"])
    assert all(seen.values()), seen
    answer = world[1].test_client().get("/api/v1/search?q=bí mật nhà nước",
                                        headers={"Authorization": f"Bearer {world[7]['sonnam']}"}).get_json()
    assert {h["id"] for h in answer["hits"]} == {world[4]["VB-THUONG"], world[4]["VB-RUT"]}


def test_a_download_name_from_the_package_is_safe_in_the_header(world):
    _, app, _, _, docs, files_of, clients, _ = world
    odd = f"tep:files/{ODD_NAME}"
    response = clients["sonnam"].get(f"/van-ban/{docs[odd]}/tep/{files_of[odd]}/tai-ve")
    assert response.status_code == 200 and response.data[:4] == b"%PDF"
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "X-Chen" not in response.headers
    assert disposition.count('"') in (0, 2) and "/" not in disposition.split("filename", 1)[1].split("''")[0]
    original = clients["luutru"].get(f"/van-ban/{docs[odd]}/tep/{files_of[odd]}/tai-ve")
    assert original.status_code == 200 and "\n" not in original.headers["Content-Disposition"]
    refused = clients["luutru"].get('/luu-tru/don-vi/11950"%0d%0aX-Chen:%201/bien-ban.csv')
    assert refused.status_code in (200, 404) and "X-Chen" not in refused.headers


def _post(client, url: str, form_page: str, reason: str):
    token = csrf_token(client.get(form_page).get_data(as_text=True))
    return client.post(url, data={"reason": reason, "csrf_token": token})


def _audit(archive, action: str) -> list[tuple[str, str]]:
    with archive.db.session() as session:
        return [(e.username, e.target) for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_archivist_withholds_on_the_page_and_only_an_admin_releases(world):
    archive, _, _, _, docs, _, clients, _ = world
    doc = docs["VB-RUT"]
    page, word = f"/luu-tru/van-ban/{doc}", ORDINARY["VB-RUT"]
    assert all(seen_by(world, "VB-RUT", word).values())
    assert clients["sonnam"].get(page).status_code == 403
    assert page in clients["luutru"].get(f"/van-ban/{doc}").get_data(as_text=True)  # the way there
    assert page not in clients["sonnam"].get(f"/van-ban/{doc}").get_data(as_text=True)
    assert clients["sonnam"].post(f"{page}/giu-lai", data={"reason": "x"}).status_code in (400, 403)
    # without the CSRF token nothing happens
    assert clients["luutru"].post(f"{page}/giu-lai", data={"reason": "x"}).status_code == 400
    assert all(seen_by(world, "VB-RUT", word).values())
    # without a reason nothing happens
    assert _post(clients["luutru"], f"{page}/giu-lai", page, "  ").status_code == 302
    assert all(seen_by(world, "VB-RUT", word).values())

    answer = _post(clients["luutru"], f"{page}/giu-lai", page, "Rà soát: có thông tin mật")
    assert answer.status_code == 302
    assert not any(seen_by(world, "VB-RUT", word).values())
    assert {c for c in visible(world, "VB-RUT").values()} == {404}
    listed = clients["luutru"].get("/luu-tru/giu-lai").get_data(as_text=True)
    assert "Rà soát: có thông tin mật" in listed and "Tối mật (A)" in listed and "TUYỆT MẬT" in listed

    assert _post(clients["luutru"], f"{page}/giai-toa", page, "nhầm").status_code == 403
    assert not any(seen_by(world, "VB-RUT", word).values())
    assert _post(clients["quantri"], f"{page}/giai-toa", page, "Rà soát lại: không mật").status_code == 302
    assert all(seen_by(world, "VB-RUT", word).values())
    assert visible(world, "VB-RUT")[f"sonnam /van-ban/{doc}"] == 200
    assert _audit(archive, "document_withhold") == [("luutru", f"van-ban:{doc}")]
    assert _audit(archive, "document_release") == [("quantri", f"van-ban:{doc}")]
    assert ("luutru", f"van-ban:{doc}") in _audit(archive, "document_withhold_refused")


def test_a_document_is_on_no_route_until_its_text_was_checked_for_a_stamp(world, tmp_path):
    """``archive ingest --workers 0`` registers rows and leaves the reading to ``archive worker``: until
    a file's text was read, nobody knows whether it carries a secrecy stamp, so the document is on no
    route (page, files, API, OAI) for anyone; after the worker, the stamped one is withheld and the
    ordinary one appears."""
    archive, app, oai, _, _, _, clients, tokens = world
    specs = make_specimens(2, seed=47, issuer="UBND phường Lam Sơn", year=2024)
    files = tmp_path / "later" / "files"
    files.mkdir(parents=True)
    stamped = replace(specs[0], secrecy="TỐI MẬT", body_paragraphs=["Mã sauchuadoc.", *specs[0].body_paragraphs])
    plain = replace(specs[1], body_paragraphs=["Mã baychuadoc.", *specs[1].body_paragraphs])
    render_pdf(stamped, files / "VB-SAU.pdf")
    render_pdf(plain, files / "VB-BAY.pdf")
    package = write_package(tmp_path / "later", [row_for(stamped, "VB-SAU", "files/VB-SAU.pdf"),
                                                 row_for(plain, "VB-BAY", "files/VB-BAY.pdf")], bag=False)
    env = archive_environment(archive.settings)
    # ``--workers 0`` registers the rows, then follows ``archive worker``s until the files are read.
    ingest = subprocess.Popen([sys.executable, "-m", "archive_portal.cli", "ingest", "--quiet", "--workers", "0",
                               "--unit", "11950", str(package)], env={**os.environ, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        later: dict[str, int] = {}
        deadline = time.monotonic() + 300
        while len(later) < 2:  # the database is the record: both rows registered, their files pending
            assert ingest.poll() is None and time.monotonic() < deadline, ingest.stdout.read()
            time.sleep(0.2)
            with archive.db.session() as session:
                later = {d.ma_van_ban: d.id for d in session.scalars(select(Document).where(
                    Document.ma_van_ban.in_(["VB-SAU", "VB-BAY"])))}
                file_of = {k: session.scalar(select(DocumentFile.id).where(
                    DocumentFile.document_id == i, DocumentFile.status == "pending")) for k, i in later.items()}
                if None in file_of.values():
                    later = {}
        probe = {**world[4], **later}
        probed_world = (*world[:4], probe, {**world[5], **file_of}, *world[6:])

        for key in ("VB-SAU", "VB-BAY"):  # registered, not read yet
            codes = visible(probed_world, key)
            assert codes and {c for c in codes.values()} == {404}, codes
            for token in tokens.values():
                harvest = oai.test_client().get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
                                                headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
                assert not re.search(rf"<identifier>oai:[^<]*:{later[key]}</identifier>", harvest)
        result = CliRunner().invoke(main, ["worker", "--workers", "1", "--idle-exit", "1"], env=env,
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert ingest.wait(timeout=300) == 0, ingest.stdout.read()
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
    assert {c for c in visible(probed_world, "VB-SAU").values()} == {404}
    assert not any(seen_by(probed_world, "VB-SAU", "sauchuadoc").values())
    assert visible(probed_world, "VB-BAY")[f"sonnam /van-ban/{later['VB-BAY']}"] == 200
    assert all(seen_by(probed_world, "VB-BAY", "baychuadoc").values())
