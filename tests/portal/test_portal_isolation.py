"""Isolation proven: every route, every account, documents inside and outside each scope, no leak.

World (real units of archive_core/data/units-hung-yen-2025.csv; one real bag per old unit,
ingested by ``ingest.pipeline.ingest_package`` so stored files, pages and index are real):

  old unit                       → new unit(s)
  11950 Phường Lam Sơn           → 11983 Phường Sơn Nam
  11956 Phường An Tảo            → 11953 Phường Phố Hiến
  323   Thành phố Hưng Yên (old district) → every new unit that took one of its communes
  11989 Xã Lạc Đạo (split)       → 11992 Xã Lạc Đạo and 11995 Xã Đại Đồng
  11992 Xã Chỉ Đạo               → 11992 Xã Lạc Đạo
  11998 Xã Việt Hưng             → 11995 Xã Đại Đồng
  325   Huyện Văn Lâm (old district) → both 11992 and 11995

Accounts: admin, archivist, auditor (see all); lookups of 11983, 11953, 11992, 11995; an
expired and a disabled lookup (refused everywhere, by session and by token).

Every rule of ``app.url_map`` must be classified in ROUTES below; an unclassified route fails
``test_every_route_is_classified``, so a new route cannot escape these tests.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import url_for
from portal_helpers import PASSWORD, csrf_token, login
from sqlalchemy import func, select

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Account, ApiToken, AuditEvent, Base, Document, DocumentFile
from archive_core.settings import Settings
from archive_portal import create_app
from archive_portal.services.accounts import create_account
from archive_portal.services.tokens import create_token
from archive_portal.services.units import import_mapping
from ingest.pipeline import IngestOptions, ingest_package
from specimens import make_specimens, render_pdf
from tests.backends import backend_overrides, close_archive

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
MARK = "kiemtrachung"  # in every document: one search reaches them all

# old unit code -> (issuer, level, parent code)
OLD_UNITS = {
    "11950": ("UBND phường Lam Sơn", "xa", "323"),
    "11956": ("UBND phường An Tảo", "xa", "323"),
    "323": ("UBND thành phố Hưng Yên", "huyen", ""),
    "11989": ("UBND xã Lạc Đạo", "xa", "325"),
    "11992": ("UBND xã Chỉ Đạo", "xa", "325"),
    "11998": ("UBND xã Việt Hưng", "xa", "325"),
    "325": ("UBND huyện Văn Lâm", "huyen", ""),
}
ALL = frozenset(OLD_UNITS)

# username -> (role, new unit, old units whose documents it must see)
ACCOUNTS = {
    "admin": ("admin", None, ALL),
    "luutru": ("archivist", None, ALL),
    "kiemtra": ("auditor", None, ALL),
    "sonnam": ("lookup", "11983", frozenset({"11950", "323"})),
    "phohien": ("lookup", "11953", frozenset({"11956", "323"})),
    "lacdao": ("lookup", "11992", frozenset({"11989", "11992", "325"})),
    "daidong": ("lookup", "11995", frozenset({"11989", "11998", "325"})),
}
REFUSED = ("hethan", "khoa")  # expired, disabled (both lookups of 11992)
# Accounts the POST routes act on (disabled, expired, reset, signed out...): no other test reads them.
SPARE = ("duphong", "tuthay")
TOKEN_ROLES = {"lookup", "archivist"}

# -- every route, classified -----------------------------------------------------------------------
PUBLIC = "public"  # anyone (sign-in page, static files)
OWN = "own"  # any signed-in account, about itself only (no archive data)
SEARCH = "search"  # results scoped to the account
DOC = "doc"  # one document or its file/page: 404 outside the scope
UNITS = "units"  # new units: a lookup sees its own only
META = "meta"  # description of the API, no archive data
ROLE = "role"  # role-only page: 403 for the other roles
PROBE = "probe"  # health and metrics for operators: no document data whoever asks
OAI = "oai"  # OAI-PMH harvesting: token only, the token's scope (off unless configured: 404)

ROUTES: dict[str, tuple[str, frozenset[str]]] = {
    "static": (PUBLIC, frozenset()),
    "auth.login": (PUBLIC, frozenset()),
    "auth.logout": (OWN, frozenset()),
    "auth.change_password": (OWN, frozenset()),
    # The account's own saved and recent searches: its own words, which may be words of documents it may
    # see, so not OWN; another account's never show (test_portal_saved_searches).
    "saved_searches.index": (SEARCH, frozenset()),
    "saved_searches.create": (OWN, frozenset()),
    "saved_searches.remove": (OWN, frozenset()),  # another account's saved search: 404 (test_portal_saved_searches)
    "search.index": (SEARCH, frozenset()),
    "api.search": (SEARCH, frozenset()),
    "search.export": (SEARCH, frozenset()),  # the same search as a file: test_exported_results_stay_in_scope
    "documents.show": (DOC, frozenset()),
    "documents.page_image": (DOC, frozenset()),
    "documents.view_inline": (DOC, frozenset()),
    "documents.download": (DOC, frozenset()),
    "documents.bulk_download": (DOC, frozenset()),  # ?id=… ; one foreign id makes the whole zip a 404
    "api.document": (DOC, frozenset()),
    "api.file": (DOC, frozenset()),
    "api.text": (DOC, frozenset()),
    "api.units": (UNITS, frozenset()),
    "api.unit": (UNITS, frozenset()),
    "api.openapi": (META, frozenset()),
    "admin.index": (ROLE, frozenset({"admin"})),
    "units_admin.index": (ROLE, frozenset({"admin"})),
    "units_admin.preview": (ROLE, frozenset({"admin"})),
    "units_admin.apply": (ROLE, frozenset({"admin"})),
    "audit_log.index": (ROLE, frozenset({"admin", "auditor"})),
    "audit_log.export": (ROLE, frozenset({"admin", "auditor"})),
    "accounts_admin.index": (ROLE, frozenset({"admin"})),
    "accounts_admin.show": (ROLE, frozenset({"admin"})),
    "accounts_admin.disable": (ROLE, frozenset({"admin"})),
    "accounts_admin.enable": (ROLE, frozenset({"admin"})),
    "accounts_admin.expire": (ROLE, frozenset({"admin"})),
    "accounts_admin.extend": (ROLE, frozenset({"admin"})),
    "accounts_admin.reset": (ROLE, frozenset({"admin"})),
    "accounts_admin.import_list": (ROLE, frozenset({"admin"})),
    "archivist.index": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.report": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.report_json": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.package_handover": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.package_handover_csv": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.package_handover_html": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.unit_handover": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.unit_handover_csv": (ROLE, frozenset({"admin", "archivist"})),
    "archivist.unit_handover_html": (ROLE, frozenset({"admin", "archivist"})),
    # Every reader's dossier page: a 404 for an unknown id here; scope and restriction in test_portal_restricted.
    "dossiers.show": (ROLE, frozenset({"admin", "archivist", "auditor", "lookup"})),
    "fonds.index": (ROLE, frozenset({"admin", "archivist"})),
    "fonds.show": (ROLE, frozenset({"admin", "archivist"})),
    "fonds.export": (ROLE, frozenset({"admin", "archivist"})),
    "fonds.dossier": (ROLE, frozenset({"admin", "archivist"})),
    "fonds.retention": (ROLE, frozenset({"admin", "archivist"})),
    "withholding.index": (ROLE, frozenset({"admin", "archivist"})),
    "withholding.show": (ROLE, frozenset({"admin", "archivist"})),
    "withholding.withhold": (ROLE, frozenset({"admin", "archivist"})),
    "withholding.release": (ROLE, frozenset({"admin"})),
    "tokens.index": (ROLE, frozenset({"lookup", "archivist"})),  # the account's own tokens
    "tokens.create": (ROLE, frozenset({"lookup", "archivist"})),
    "tokens.revoke": (ROLE, frozenset({"lookup", "archivist"})),
    "health.healthz": (PROBE, frozenset()),
    "health.metrics": (PROBE, frozenset()),
    "oai.endpoint": (OAI, frozenset()),
    "printing.document": (DOC, frozenset()),
    "printing.package_handover": (ROLE, frozenset({"admin", "archivist"})),
    "printing.unit_handover": (ROLE, frozenset({"admin", "archivist"})),
    # Every reader's dashboard: counts of its own scope only (test_portal_pages_browser); the progress JSON is staff's.
    "dashboard.index": (ROLE, frozenset({"admin", "archivist", "auditor", "lookup"})),
    "dashboard.progress": (ROLE, frozenset({"admin", "archivist"})),
}
# Values for the arguments of role pages and probes; real_args() puts the ids of this world over them, so an
# allowed role gets the page itself (200) and a POST reaches the authorisation check (_post_case).
ROLE_ARGS = {"package_id": 999_999, "unit_code": "11950", "account_id": 999_999, "token_id": 999_999,
             "dossier_id": 999_999, "document_id": 999_999, "search_id": 999_999, "fmt": "csv"}


@dataclass
class Iso:
    archive: Archive
    app: object
    docs: dict[str, int] = field(default_factory=dict)  # old unit -> document id
    files: dict[str, int] = field(default_factory=dict)  # old unit -> file id
    clients: dict[str, object] = field(default_factory=dict)  # username -> signed-in test client
    refused_clients: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # username -> clear API token
    token_ids: dict[str, int] = field(default_factory=dict)  # username -> its token's id
    package_ids: dict[str, int] = field(default_factory=dict)  # old unit -> package id
    accounts: dict[str, int] = field(default_factory=dict)  # username -> account id (with SPARE)


def subject_of(code: str) -> str:
    return f"Báo cáo kiểm tra cô lập {MARK} mã dv{code}"


def _bag(root: Path, code: str, spec) -> Path:
    from tests.ingest.packaging import row_for, write_package

    files = root / "files"
    files.mkdir(parents=True)
    render_pdf(spec, files / "vb.pdf", pages=2)
    row = row_for(spec, f"VB-{code}", "files/vb.pdf", trich_yeu=subject_of(code))
    _, level, parent = OLD_UNITS[code]
    return write_package(root, [row], unit_code=code, unit_level=level, parent=parent)


def _create_tokens(session, usernames) -> tuple[dict[str, str], dict[str, int]]:
    tokens, ids = {}, {}
    for username in usernames:
        account = session.scalar(select(Account).where(Account.username == username))
        if account.role in TOKEN_ROLES:
            info, clear = create_token(session, account, days=30, name="isolation")
            tokens[username], ids[username] = clear, info.id
    return tokens, ids


@pytest.fixture(scope="module")
def iso(request, tmp_path_factory, backend) -> Iso:
    home = tmp_path_factory.mktemp("isolation-home")
    overrides = {"database_url": f"sqlite:///{home / 'archive.sqlite'}", **backend_overrides(request, backend)}
    archive = Archive.open(Settings.load(home=home, secret_key="isolation-secret", **overrides))
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV, loaded_by="test")
    bags = tmp_path_factory.mktemp("isolation-bags")
    for n, (code, (issuer, _, _)) in enumerate(OLD_UNITS.items()):
        spec = make_specimens(1, seed=100 + n, issuer=issuer, year=2024)[0]
        ingest_package(archive, _bag(bags / code, code, spec), IngestOptions(workers=1))
    world = Iso(archive=archive, app=None)
    with archive.db.transaction() as session:
        for doc in session.scalars(select(Document)):
            world.docs[doc.unit_code] = doc.id
            world.files[doc.unit_code] = session.scalar(
                select(DocumentFile.id).where(DocumentFile.document_id == doc.id).order_by(DocumentFile.position))
        for username, (role, unit, _) in ACCOUNTS.items():
            create_account(session, username=username, role=role, new_unit_code=unit, password=PASSWORD)
        for username in REFUSED:
            create_account(session, username=username, role="lookup", new_unit_code="11992", password=PASSWORD)
        for username in SPARE:
            create_account(session, username=username, role="lookup", new_unit_code="11995", password=PASSWORD)
        world.tokens, world.token_ids = _create_tokens(session, [*ACCOUNTS, *REFUSED])
        world.accounts = dict(session.execute(select(Account.username, Account.id)).all())
        for doc in session.scalars(select(Document)):
            world.package_ids[doc.unit_code] = doc.package_id
    assert set(world.docs) == set(OLD_UNITS), "every bag must give one document"
    world.app = create_app(archive=archive)
    for username in [*ACCOUNTS, *REFUSED]:
        client = world.app.test_client()
        assert login(client, username).status_code == 302, username
        (world.refused_clients if username in REFUSED else world.clients)[username] = client
    # Now expire one and disable the other: their open sessions and tokens must stop working.
    with archive.db.transaction() as session:
        for account in session.scalars(select(Account).where(Account.username.in_(REFUSED))):
            if account.username == "hethan":
                account.expires_at = utcnow() - timedelta(minutes=1)
            else:
                account.active = False
    yield world
    close_archive(archive)


def rule_urls(world: Iso, endpoint: str) -> list[tuple[str, str | None]]:
    """(url, old unit it reaches or None) for each way to call ``endpoint`` in this world."""
    rule = next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
    args = set(rule.arguments)
    with world.app.test_request_context():
        if endpoint == "documents.bulk_download":  # the documents in the query string, one by one
            return [(url_for(endpoint, id=doc_id), code) for code, doc_id in world.docs.items()]
        if "doc_id" in args:
            out = []
            for code, doc_id in world.docs.items():
                values = {"doc_id": doc_id}
                if "file_id" in args:
                    values["file_id"] = world.files[code]
                if "page_no" in args:
                    values["page_no"] = 1
                out.append((url_for(endpoint, **values), code))
            return out
        if "code" in args:
            return [(url_for(endpoint, code=code), code) for code in ("11983", "11953", "11992", "11995")]
        if "filename" in args:
            return [(url_for(endpoint, filename="style.css"), None)]
        return [(url_for(endpoint, **{a: real_args(world)[a] for a in args}), None)]


def real_args(world: Iso) -> dict[str, object]:
    """Ids of this world for the role pages, so that an allowed role really gets the page (this world has no
    dossier: the dossier pages answer 404 here; their scope and restriction are in test_portal_restricted)."""
    return {**ROLE_ARGS, "package_id": world.package_ids["11950"], "account_id": world.accounts["duphong"],
            "token_id": world.token_ids["luutru"], "document_id": world.docs["11998"]}


# -- every POST route, with a request that changes something if the caller is let through -----------
NEW_PASSWORD = "mat-khau-moi-cua-tu-thay-2026"
IMPORT_CSV = "Họ và tên,Tên đăng nhập,Đơn vị mới\nCán bộ Nhập Thử,iso.nhap,11992\n".encode()


def _post_case(world: Iso, endpoint: str) -> tuple[str, dict]:
    """(url, form without the CSRF token) of one POST route, aimed at real rows of this world."""
    import io

    spare, doc = world.accounts["duphong"], world.docs["11998"]
    with world.app.test_request_context():
        cases = {
            "auth.logout": (url_for("auth.logout"), {}),
            "auth.change_password": (url_for("auth.change_password"),
                                     {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
            "accounts_admin.index": (url_for("accounts_admin.index"),
                                     {"username": "iso.moi", "role": "lookup", "new_unit": "11992", "expires": ""}),
            "accounts_admin.disable": (url_for("accounts_admin.disable", account_id=spare), {}),
            "accounts_admin.enable": (url_for("accounts_admin.enable", account_id=world.accounts["khoa"]), {}),
            "accounts_admin.expire": (url_for("accounts_admin.expire", account_id=spare), {}),
            "accounts_admin.extend": (url_for("accounts_admin.extend", account_id=world.accounts["hethan"]),
                                      {"expires": "31/12/2030"}),
            "accounts_admin.reset": (url_for("accounts_admin.reset", account_id=spare), {}),
            "accounts_admin.import_list": (url_for("accounts_admin.import_list"),
                                           {"file": (io.BytesIO(IMPORT_CSV), "ds.csv"), "output": "html"}),
            "units_admin.preview": (url_for("units_admin.preview"),
                                    {"mapping": (io.BytesIO(UNITS_CSV.read_bytes()), "units.csv")}),
            "units_admin.apply": (url_for("units_admin.apply"), {"sha256": _sha256(UNITS_CSV.read_bytes())}),
            "withholding.withhold": (url_for("withholding.withhold", document_id=doc), {"reason": "Kiểm tra cô lập"}),
            "withholding.release": (url_for("withholding.release", document_id=doc), {"reason": "Kiểm tra cô lập"}),
            "tokens.create": (url_for("tokens.create"), {"name": "iso", "days": "7"}),
            "tokens.revoke": (url_for("tokens.revoke", token_id=world.token_ids["luutru"]), {}),
            "oai.endpoint": (url_for("oai.endpoint"), {"verb": "ListRecords", "metadataPrefix": "oai_dc"}),
            # the account's own saved searches (another account's: test_portal_saved_searches)
            "saved_searches.create": ("/tra-cuu-da-luu", {"name": "iso", "q": MARK}),
            "saved_searches.remove": ("/tra-cuu-da-luu/999999/xoa", {}),
        }
    return cases[endpoint]


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def post_endpoints(world: Iso) -> list[tuple[str, str, frozenset[str]]]:
    """(endpoint, kind, roles) of every route that takes a POST (the sign-in form aside)."""
    return [(e, kind, roles) for e, (kind, roles) in routes(world) if "POST" in methods(world, e) and kind != PUBLIC]


def snapshot(world: Iso) -> dict[str, list[str]]:
    """Every row of every table but the audit trail (which records refusals too)."""
    with world.archive.db.session() as session:
        return {table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
                for table in Base.metadata.sorted_tables if table.name != AuditEvent.__tablename__}


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def fresh_token(client) -> str:
    """A valid CSRF token of this client's session: from the sign-in page, which everyone may load (a signed-in
    account is sent on from there to the search page, whose sign-out form carries the token)."""
    page = client.get("/dang-nhap")
    if page.status_code == 302:
        page = client.get("/")
    return csrf_token(page.get_data(as_text=True))


def routes(world: Iso) -> list[tuple[str, tuple[str, frozenset[str]]]]:
    """The classified endpoints this app has (the classification may name routes not registered)."""
    present = {r.endpoint for r in world.app.url_map.iter_rules()}
    return [(e, v) for e, v in ROUTES.items() if e in present]


def methods(world: Iso, endpoint: str) -> set[str]:
    rule = next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def is_api(url: str) -> bool:
    return url.startswith("/api/")


# -- the tests --------------------------------------------------------------------------------------
def test_every_route_is_classified(iso):
    unclassified = sorted({r.endpoint for r in iso.app.url_map.iter_rules()} - set(ROUTES))
    assert not unclassified, f"routes not classified for the isolation tests: {unclassified}"


def test_document_routes_answer_inside_the_scope_and_404_outside(iso):
    leaks = []
    for username, (_role, _, visible) in ACCOUNTS.items():
        client = iso.clients[username]
        for endpoint, (kind, _) in routes(iso):
            if kind != DOC:
                continue
            for url, code in rule_urls(iso, endpoint):
                response = client.get(url)
                expected = 200 if code in visible else 404
                if response.status_code != expected:
                    leaks.append((username, url, code, response.status_code, expected))
                elif expected == 404 and subject_of(code).encode() in response.get_data():
                    leaks.append((username, url, code, "subject in the 404 page", expected))
    assert not leaks, leaks


def test_document_routes_by_token_keep_the_account_scope(iso):
    leaks = []
    client = iso.app.test_client()  # no session: the token alone
    for username, token in iso.tokens.items():
        if username not in ACCOUNTS:
            continue
        visible = ACCOUNTS[username][2]
        for endpoint, (kind, _) in routes(iso):
            if kind != DOC or not endpoint.startswith("api."):
                continue
            for url, code in rule_urls(iso, endpoint):
                response = client.get(url, headers={"Authorization": f"Bearer {token}"})
                expected = 200 if code in visible else 404
                if response.status_code != expected:
                    leaks.append((username, url, code, response.status_code, expected))
    assert not leaks, leaks


def _search_json(client, headers=None, **args):
    response = client.get("/api/v1/search", query_string={"q": MARK, **args}, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_search_results_counts_facets_and_snippets_stay_in_scope(iso):
    leaks = []
    for username, (_role, _, visible) in ACCOUNTS.items():
        client = iso.clients[username]
        found = _search_json(client, per_page=50)
        units = {hit["unit_code"] for hit in found["hits"]}
        if units != visible or found["total"] != len(visible):
            leaks.append((username, "hits/total", sorted(units), found["total"]))
        facet_codes = {v["value"] for facet in found["facets"].values() for v in facet["values"]}
        foreign = {c for c in ALL - visible if c in facet_codes}
        if foreign:
            leaks.append((username, "facets", sorted(foreign)))
        for hit in found["hits"]:
            for other in ALL - visible:
                if f"dv{other}" in hit["snippet_html"] or f"dv{other}" in hit["subject"]:
                    leaks.append((username, "snippet", hit["id"], other))
        # asking for a foreign unit by filter, or by its own words, finds nothing
        for other in sorted(ALL - visible):
            filtered = _search_json(client, unit=other)
            if filtered["total"] or filtered["hits"]:
                leaks.append((username, "unit filter", other, filtered["total"]))
            direct = _search_json(client, q=f"dv{other}")
            if direct["total"]:
                leaks.append((username, "words of a foreign document", other, direct["total"]))
        # the search page: the same hits, nothing of the others
        html = client.get("/", query_string={"q": MARK}).get_data(as_text=True)
        for other in ALL - visible:
            if f"dv{other}" in html:
                leaks.append((username, "search page", other))
        for code in visible:
            if f"dv{code}" not in html:
                leaks.append((username, "search page misses", code))
    assert not leaks, leaks


def test_exported_results_stay_in_scope(iso):
    leaks = []
    for username, (_role, _, visible) in ACCOUNTS.items():
        client = iso.clients[username]
        for fmt in ("csv", "xlsx"):
            r = client.get(f"/ket-qua.{fmt}", query_string={"q": MARK})
            if r.status_code != 200:
                leaks.append((username, fmt, r.status_code))
                continue
            text = r.data.decode("utf-8-sig") if fmt == "csv" else _xlsx_text(r.data)
            foreign = [c for c in ALL - visible if f"dv{c}" in text or f",{c}," in text]
            missing = [c for c in visible if f",{c}," not in text and c not in text]
            if foreign or missing:
                leaks.append((username, fmt, "foreign", sorted(foreign), "missing", sorted(missing)))
    assert not leaks, leaks


def _xlsx_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).active
    return "\n".join(",".join("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True))


def test_search_by_token_is_scoped_like_the_session(iso):
    client = iso.app.test_client()
    for username, token in iso.tokens.items():
        if username not in ACCOUNTS:
            continue
        found = _search_json(client, headers={"Authorization": f"Bearer {token}"}, per_page=50)
        assert {hit["unit_code"] for hit in found["hits"]} == ACCOUNTS[username][2], username
        assert found["total"] == len(ACCOUNTS[username][2]), username


def test_new_units_a_lookup_sees_are_its_own(iso):
    for username, (role, unit, _) in ACCOUNTS.items():
        client = iso.clients[username]
        listed = {u["code"] for u in client.get("/api/v1/units").get_json()["units"]}
        for url, code in rule_urls(iso, "api.unit"):
            status = client.get(url).status_code
            if role == "lookup":
                assert status == (200 if code == unit else 404), (username, url, status)
            else:
                assert status == 200, (username, url, status)
        if role == "lookup":
            assert listed == {unit}, (username, listed)
        else:
            assert {"11983", "11953", "11992", "11995"} <= listed


def test_role_pages_refuse_the_other_roles(iso):
    wrong = []
    for username, (role, _, _) in ACCOUNTS.items():
        client = iso.clients[username]
        for endpoint, (kind, roles) in routes(iso):
            if kind != ROLE or "GET" not in methods(iso, endpoint):
                continue
            for url, _ in rule_urls(iso, endpoint):
                status = client.get(url).status_code
                if role in roles:
                    no_dossier = "dossier_id" in next(r for r in iso.app.url_map.iter_rules()
                                                      if r.endpoint == endpoint).arguments
                    ok = status == (404 if no_dossier else 200)
                else:
                    ok = status == 403
                if not ok:
                    wrong.append((username, endpoint, status))
    assert not wrong, wrong


def test_every_post_route_has_a_request_that_would_change_something(iso):
    for endpoint, _, _ in post_endpoints(iso):
        assert _post_case(iso, endpoint), endpoint  # a KeyError names a POST route without a case


def test_post_routes_refuse_the_other_roles_at_the_role_check(iso):
    """With a valid CSRF token and real ids: the refusal is the role check's (403) and nothing changed."""
    before = snapshot(iso)
    wrong = []
    for username, (role, _, _) in ACCOUNTS.items():
        client = iso.clients[username]
        token = fresh_token(client)
        for endpoint, kind, roles in post_endpoints(iso):
            if kind != ROLE or role in roles:
                continue
            url, data = _post_case(iso, endpoint)
            status = client.post(url, data={**data, "csrf_token": token}).status_code
            if status != 403:
                wrong.append((username, endpoint, status))
    assert not wrong, wrong
    assert not changed_tables(before, snapshot(iso))
def _account(iso: Iso, username: str) -> Account:
    with iso.archive.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        session.expunge(account)
        return account


def _do(client, iso: Iso, endpoint: str, **extra):
    url, data = _post_case(iso, endpoint)
    return client.post(url, data={**data, **extra, "csrf_token": fresh_token(client)})


def test_allowed_roles_really_get_what_the_post_routes_do(iso):
    """Each POST route, by a role allowed it, on real rows: the effect is in the database (and undone after)."""
    admin, luutru, sonnam = iso.clients["admin"], iso.clients["luutru"], iso.clients["sonnam"]
    # own account: change the password, then sign out (every session of that account ends)
    own = iso.app.test_client()
    assert login(own, "tuthay").status_code == 302
    old_hash = _account(iso, "tuthay").password_hash
    assert _do(own, iso, "auth.change_password").status_code == 302
    assert _account(iso, "tuthay").password_hash != old_hash
    assert login(iso.app.test_client(), "tuthay", NEW_PASSWORD).status_code == 302
    assert _do(own, iso, "auth.logout").status_code == 302
    assert _refused(own.get("/"), "/")
    # accounts (admin): create, import, disable/enable, expire/extend, reset the spare's password
    created = _do(admin, iso, "accounts_admin.index")
    assert created.status_code == 200 and "iso.moi" in created.get_data(as_text=True)
    assert _account(iso, "iso.moi").new_unit_code == "11992"
    imported = _do(admin, iso, "accounts_admin.import_list")
    assert imported.status_code == 200 and "iso.nhap" in imported.get_data(as_text=True)
    assert _account(iso, "iso.nhap").new_unit_code == "11992"
    spare = iso.accounts["duphong"]
    with iso.app.test_request_context():
        disable, enable = (url_for(f"accounts_admin.{a}", account_id=spare) for a in ("disable", "enable"))
        extend = url_for("accounts_admin.extend", account_id=spare)
    assert admin.post(disable, data={"csrf_token": fresh_token(admin)}).status_code == 302
    assert _account(iso, "duphong").active is False
    assert admin.post(enable, data={"csrf_token": fresh_token(admin)}).status_code == 302
    assert _account(iso, "duphong").active is True
    assert _do(admin, iso, "accounts_admin.expire").status_code == 302
    assert _account(iso, "duphong").expires_at <= utcnow()
    assert admin.post(extend, data={"expires": "31/12/2030", "csrf_token": fresh_token(admin)}).status_code == 302
    assert _account(iso, "duphong").expires_at.year == 2030
    old_hash = _account(iso, "duphong").password_hash
    reset = _do(admin, iso, "accounts_admin.reset")
    assert reset.status_code == 200 and "duphong" in reset.get_data(as_text=True)
    assert _account(iso, "duphong").password_hash != old_hash
    # units mapping (admin): the preview shows the file; applying the same file again changes nothing
    preview = _do(admin, iso, "units_admin.preview")
    assert preview.status_code == 200 and _sha256(UNITS_CSV.read_bytes()) in preview.get_data(as_text=True)
    applied = _do(admin, iso, "units_admin.apply")
    assert applied.status_code == 302
    assert "đã được nạp trước đó" in admin.get(applied.headers["Location"]).get_data(as_text=True)
    # withholding: the archivist withholds (gone from the lookup's search), only the admin releases (back)
    doc = iso.docs["11998"]
    daidong = iso.clients["daidong"]
    assert _do(luutru, iso, "withholding.withhold").status_code == 302
    try:
        with iso.archive.db.session() as session:
            assert session.get(Document, doc).withheld
        assert "dv11998" not in {h["subject"][-7:] for h in _search_json(daidong, per_page=50)["hits"]}
        assert _do(luutru, iso, "withholding.release").status_code == 403
    finally:
        assert _do(admin, iso, "withholding.release").status_code == 302
    with iso.archive.db.session() as session:
        assert not session.get(Document, doc).withheld
    assert {h["unit_code"] for h in _search_json(daidong, per_page=50)["hits"]} == ACCOUNTS["daidong"][2]
    # tokens (lookup, archivist): a new token works on the API until its owner revokes it
    for client, username in ((sonnam, "sonnam"), (luutru, "luutru")):
        made = _do(client, iso, "tokens.create")
        assert made.status_code == 201
        with iso.archive.db.session() as session:
            info = session.scalars(select(ApiToken).where(ApiToken.account_id == iso.accounts[username])
                                   .order_by(ApiToken.id.desc())).first()
        clear = re.search(r'<code class="new-token">([^<]+)</code>', made.get_data(as_text=True)).group(1)
        assert info is not None and info.revoked_at is None
        bearer = {"Authorization": f"Bearer {clear}"}
        api = iso.app.test_client()
        assert {h["unit_code"] for h in _search_json(api, headers=bearer, per_page=50)["hits"]} == ACCOUNTS[username][2]
        with iso.app.test_request_context():
            revoke = url_for("tokens.revoke", token_id=info.id)
        assert client.post(revoke, data={"csrf_token": fresh_token(client)}).status_code == 302
        with iso.archive.db.session() as session:
            assert session.get(ApiToken, info.id).revoked_at is not None
        assert api.get("/api/v1/search", query_string={"q": MARK}, headers=bearer).status_code == 401


def test_audit_pages_show_the_trail_to_auditors_only(iso):
    auditor = iso.clients["kiemtra"]
    html = auditor.get("/nhat-ky/", query_string={"username": "sonnam"}).get_data(as_text=True)
    assert "sonnam" in html and "Đăng nhập" in html
    for username in ("sonnam", "phohien", "lacdao", "daidong", "luutru"):
        assert iso.clients[username].get("/nhat-ky/").status_code == 403
        assert iso.clients[username].get("/nhat-ky/csv").status_code == 403


def test_own_and_meta_routes_carry_no_archive_data(iso):
    for username in ACCOUNTS:
        client = iso.clients[username]
        for endpoint, (kind, _) in routes(iso):
            if kind not in (OWN, META):
                continue
            if "GET" not in methods(iso, endpoint):
                continue
            for url, _ in rule_urls(iso, endpoint):
                response = client.get(url)
                assert response.status_code == 200, (username, url, response.status_code)
                assert MARK.encode() not in response.get_data(), (username, url)


def _refused(response, url: str) -> bool:
    if is_api(url):
        return response.status_code == 401
    return response.status_code == 302 and "/dang-nhap" in response.headers.get("Location", "")


def test_expired_disabled_and_anonymous_are_refused_everywhere(iso):
    let_in = []
    callers = dict(iso.refused_clients, anonymous=iso.app.test_client())
    for who, client in callers.items():
        for endpoint, (kind, _) in routes(iso):
            if kind in (PUBLIC, META, PROBE) or "GET" not in methods(iso, endpoint):  # no archive data (above)
                continue
            for url, _ in rule_urls(iso, endpoint):
                response = client.get(url)
                refused = response.status_code in (401, 404) if kind == OAI else _refused(response, url)
                if not refused:
                    let_in.append((who, url, response.status_code))
    for username in REFUSED:  # a new sign-in is refused too
        assert login(iso.app.test_client(), username).status_code == 401
    assert not let_in, let_in


def test_post_routes_refuse_expired_disabled_and_anonymous_at_the_sign_in_check(iso):
    """With a valid CSRF token of their session and real ids: sent to sign in (OAI: 401, or 404 while off)
    by the authorisation check itself, never a CSRF 400, and nothing changed."""
    before = snapshot(iso)
    let_in = []
    callers = dict(iso.refused_clients, anonymous=iso.app.test_client())
    for who, client in callers.items():
        token = fresh_token(client)
        for endpoint, kind, _ in post_endpoints(iso):
            url, data = _post_case(iso, endpoint)
            response = client.post(url, data={**data, "csrf_token": token})
            refused = response.status_code in (401, 404) if kind == OAI else _refused(response, url)
            if not refused:
                let_in.append((who, endpoint, response.status_code))
    assert not let_in, let_in
    assert not changed_tables(before, snapshot(iso))


def test_tokens_of_expired_and_disabled_accounts_are_refused(iso):
    client = iso.app.test_client()
    let_in = []
    for username in REFUSED:
        token = iso.tokens.get(username)
        assert token, username
        for endpoint, (kind, _) in routes(iso):
            if not endpoint.startswith("api.") or kind in (PUBLIC, META):
                continue
            for url, _ in rule_urls(iso, endpoint):
                response = client.get(url, headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 401:
                    let_in.append((username, url, response.status_code))
    assert not let_in, let_in


def test_lookup_reads_are_stamped_and_recorded(iso):
    """Its own requests, on its own client: nothing here depends on what other tests asked before."""
    from archive_core.db.models import AuditEvent

    with iso.archive.db.session() as session:
        before = session.scalar(select(func.max(AuditEvent.id))) or 0
    client = iso.app.test_client()
    assert login(client, "lacdao").status_code == 302
    doc, file = iso.docs["11989"], iso.files["11989"]
    assert _search_json(client)["total"] == len(ACCOUNTS["lacdao"][2])
    assert "dv11989" in client.get("/", query_string={"q": MARK}).get_data(as_text=True)
    assert client.get(f"/van-ban/{doc}").status_code == 200
    image = client.get(f"/van-ban/{doc}/tep/{file}/trang/1.png")
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    data = client.get(f"/van-ban/{doc}/tep/{file}/tai-ve").get_data()
    assert data[:4] == b"%PDF" and b"/ArchiveStamp" in data
    with iso.archive.db.session() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.target).where(
            AuditEvent.username == "lacdao", AuditEvent.id > before)).all()
    actions = {action for action, _ in events}
    assert {"login", "search", "api_search", "document_view", "file_download", "page_image"} <= actions, sorted(actions)
    targets = {action: target for action, target in events}
    assert targets["document_view"] == f"van-ban:{doc}"
    assert str(doc) in targets["file_download"] and str(doc) in targets["page_image"]


def test_probes_carry_no_document_data(iso):
    callers = dict(iso.clients, anonymous=iso.app.test_client())
    for who, client in callers.items():
        for endpoint, (kind, _) in routes(iso):
            if kind != PROBE:
                continue
            for url, _ in rule_urls(iso, endpoint):
                body = client.get(url).get_data()
                assert MARK.encode() not in body, (who, url)
                assert not any(f"dv{code}".encode() in body for code in ALL), (who, url)


def _record_count(xml: str) -> int:
    return len(re.findall(r"<record>", xml))


def test_oai_harvest_is_off_by_default_and_scoped_by_token_when_on(iso):
    from dataclasses import replace

    args = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    for who, client in dict(iso.clients, anonymous=iso.app.test_client()).items():
        assert client.get("/oai", query_string=args).status_code == 404, who
    settings = iso.archive.settings
    iso.archive.settings = replace(settings, oai_enabled=True)
    try:
        client = iso.app.test_client()
        assert client.get("/oai", query_string=args).status_code == 401  # no token
        # a signed-in session is not enough: harvesting is by token only
        assert iso.clients["sonnam"].get("/oai", query_string=args).status_code == 401
        leaks = []
        for username, token in iso.tokens.items():
            response = client.get("/oai", query_string=args, headers={"Authorization": f"Bearer {token}"})
            if username in REFUSED:
                posted = client.post("/oai", data=args, headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 401 or posted.status_code != 401:
                    leaks.append((username, response.status_code, posted.status_code))
                continue
            xml = response.get_data(as_text=True)
            visible = ACCOUNTS[username][2]
            foreign = [code for code in ALL - visible if f"dv{code}" in xml]
            if response.status_code != 200 or foreign or _record_count(xml) != len(visible):
                leaks.append((username, response.status_code, foreign, _record_count(xml)))
            # the same harvest by POST (OAI-PMH allows both): the same records
            posted = client.post("/oai", data=args, headers={"Authorization": f"Bearer {token}"})
            if posted.status_code != 200 or _record_count(posted.get_data(as_text=True)) != len(visible):
                leaks.append((username, "POST", posted.status_code))
        assert not leaks, leaks
    finally:
        iso.archive.settings = settings
