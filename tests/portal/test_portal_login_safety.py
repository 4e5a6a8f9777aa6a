"""Login safety: persistent lockout, one answer for every failure, idle sessions, cookies, headers, CSRF on
every form, no stack trace; and the read-only rule of lookup accounts, checked on every route."""
from __future__ import annotations

import hashlib
import io
import re
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from archive_portal import create_app
from archive_core.context import Archive
from archive_core.db.models import Account
from archive_core.clock import utcnow
from archive_portal.services.accounts import create_account
from portal_helpers import PASSWORD, csrf_token, login

FAILED = "Tên đăng nhập hoặc mật khẩu không đúng"
HINT = "tài khoản bị tạm khóa 15 phút"
_addresses = iter(range(1, 250))


def _client(app):
    """A client from an address of its own (the per-address throttle counts per test, not per suite)."""
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = f"10.46.0.{next(_addresses)}"
    return c


def _new_lookup(world, username: str, unit: str = "11953") -> None:
    with world.archive.db.transaction() as s:
        create_account(s, username=username, role="lookup", new_unit_code=unit, password=PASSWORD)


def _row(world, username: str) -> Account:
    with world.archive.db.session() as s:
        return s.query(Account).filter_by(username=username).one()


# -- lockout and the one answer ---------------------------------------------------------------------

def test_ten_failures_lock_the_account_across_processes_until_the_time_is_up(app, world):
    _new_lookup(world, "khoa.tam")
    for _ in range(10):  # each from another address: the per-address throttle never fires
        r = login(_client(app), "khoa.tam", "Sai-Mat-Khau-99")
        assert r.status_code == 401
    locked = _row(world, "khoa.tam")
    assert locked.locked_until is not None and locked.locked_until > utcnow() + timedelta(minutes=14)

    r = login(_client(app), "khoa.tam", PASSWORD)  # the right password no longer opens it…
    assert r.status_code == 401 and FAILED in r.get_data(as_text=True) and HINT in r.get_data(as_text=True)
    # …nor in another process: a second app on the same database, with a fresh rate-limit store.
    other = Archive.open(world.archive.settings)
    try:
        assert login(_client(create_app(archive=other)), "khoa.tam", PASSWORD).status_code == 401
    finally:
        other.close()

    with world.archive.db.transaction() as s:  # fifteen minutes later
        s.query(Account).filter_by(username="khoa.tam").one().locked_until = utcnow() - timedelta(seconds=1)
    assert login(_client(app), "khoa.tam", PASSWORD).status_code == 302
    assert _row(world, "khoa.tam").failed_logins == 0


def test_a_success_resets_the_failure_count(app, world):
    _new_lookup(world, "dem.lai")
    for _ in range(9):
        login(_client(app), "dem.lai", "Sai-Mat-Khau-99")
    assert login(_client(app), "dem.lai", PASSWORD).status_code == 302
    login(_client(app), "dem.lai", "Sai-Mat-Khau-99")
    assert _row(world, "dem.lai").locked_until is None
    assert login(_client(app), "dem.lai", PASSWORD).status_code == 302


def test_unknown_wrong_locked_disabled_expired_all_get_the_same_page(app, world):
    _new_lookup(world, "bi.khoa")
    with world.archive.db.transaction() as s:
        s.query(Account).filter_by(username="bi.khoa").one().locked_until = utcnow() + timedelta(minutes=15)
    bodies = set()
    for username, password in [("khong-ai-ca", PASSWORD), ("sonnam", "Sai-Mat-Khau-99"), ("bi.khoa", PASSWORD),
                               ("khoa", PASSWORD), ("hethan", PASSWORD)]:
        r = login(_client(app), username, password)
        assert r.status_code == 401, username
        html = r.get_data(as_text=True)
        assert FAILED in html and HINT in html
        bodies.add(re.sub(r'value="[^"]*"', "", html))  # the page minus the CSRF token and the echoed name
    assert len(bodies) == 1


def test_flask_limiter_throttles_one_name_from_one_address(app):
    c = _client(app)
    for _ in range(5):
        assert login(c, "doan-mo-2", "Sai-Mat-Khau-99").status_code == 401
    r = login(c, "doan-mo-2", "Sai-Mat-Khau-99")
    assert r.status_code == 429 and "Quá nhiều yêu cầu" in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)
    # ARCHIVE_RATELIMIT_STORAGE_URI's default, memory://, is the in-process store safe between threads
    assert app.config["RATELIMIT_STORAGE_URI"] == "locked-memory://"


# -- sessions and cookies ---------------------------------------------------------------------------

def test_a_session_idle_too_long_ends(app, world):
    c = _client(app)
    assert login(c, "sonnam").status_code == 302
    assert c.get("/").status_code == 200
    with c.session_transaction() as sess:
        sess["_seen"] = time.time() - 29 * 60  # 29 minutes: still alive
    assert c.get("/").status_code == 200
    with c.session_transaction() as sess:
        sess["_seen"] = time.time() - 31 * 60
    r = c.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/dang-nhap"
    assert "không hoạt động" in c.get("/dang-nhap").get_data(as_text=True)
    assert c.get("/").status_code == 302  # really signed out


def test_idle_api_session_gets_401(app):
    c = _client(app)
    login(c, "phohien")
    with c.session_transaction() as sess:
        sess["_seen"] = time.time() - 31 * 60
    r = c.get("/api/v1/search?q=bao")
    assert r.status_code == 401 and r.is_json


def test_idle_limit_is_configurable(world):
    archive = Archive.open(replace(world.archive.settings, session_idle_minutes=5))
    try:
        c = _client(create_app(archive=archive))
        login(c, "sonnam")
        with c.session_transaction() as sess:
            sess["_seen"] = time.time() - 6 * 60
        assert c.get("/").status_code == 302
    finally:
        archive.close()


def test_session_cookie_is_httponly_samesite_and_secure_when_configured(world):
    plain = login(_client(create_app(archive=world.archive)), "sonnam").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    archive = Archive.open(replace(world.archive.settings, session_cookie_secure=True))
    try:
        secure = login(_client(create_app(archive=archive)), "sonnam").headers["Set-Cookie"]
    finally:
        archive.close()
    assert "Secure" in secure and "HttpOnly" in secure and "SameSite=Lax" in secure


# -- headers, CSRF, errors --------------------------------------------------------------------------

def test_account_pages_carry_the_security_headers_and_no_inline_script(app, as_admin, world):
    sonnam = _row(world, "sonnam")
    user = _client(app)
    login(user, "phohien")
    pages = [(as_admin, "/quan-tri/tai-khoan/"), (as_admin, f"/quan-tri/tai-khoan/{sonnam.id}"),
             (as_admin, "/quan-tri/tai-khoan/nhap"), (user, "/doi-mat-khau"), (_client(app), "/dang-nhap")]
    for client, url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        html = r.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\son[a-z]+=", html), url


def _post_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            routes.append((rule.endpoint, re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)))
    return routes


def test_every_form_needs_its_csrf_token(app, as_admin):
    routes = _post_routes(app)
    assert {"auth.login", "auth.change_password", "accounts_admin.index", "accounts_admin.import_list",
            "accounts_admin.reset", "accounts_admin.disable"} <= {e for e, _ in routes}
    csrf_exempt = {"oai.endpoint"}  # OAI-PMH: a harvesting protocol, no session, no forms
    for endpoint, url in routes:
        if endpoint in csrf_exempt:
            continue
        r = as_admin.post(url, data={"username": "x", "password": "y"})
        assert r.status_code == 400, (endpoint, url, r.status_code)
        if endpoint.startswith(("auth.", "accounts_admin.")):
            assert "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ" in r.get_data(as_text=True), url


def test_hostile_requests_to_account_pages_never_show_a_stack_trace(app, as_admin):
    token = csrf_token(as_admin.get("/quan-tri/tai-khoan/nhap").get_data(as_text=True))
    big = io.BytesIO(b"a,b\n" * (1_300_000))  # over the 4 MiB upload limit
    responses = [
        as_admin.post("/quan-tri/tai-khoan/nhap", data={"file": (big, "lon.csv"), "csrf_token": token},
                      content_type="multipart/form-data"),
        as_admin.get("/quan-tri/tai-khoan/999999999999999999999"),
        as_admin.get("/quan-tri/tai-khoan/2%00"),
        as_admin.post("/quan-tri/tai-khoan/", data={"csrf_token": token, "username": "x" * 10_000,
                                                    "role": "khong-co", "new_unit": "'; drop table account;--"}),
        _client(app).post("/dang-nhap", data={"username": "\x00" * 200, "password": "p"}),
    ]
    for r in responses:
        assert r.status_code in (400, 404, 413), r.status_code
        html = r.get_data(as_text=True)
        assert "Traceback" not in html and "File \"" not in html and "sqlalchemy" not in html.lower()


# -- roles and the read-only rule -------------------------------------------------------------------

def test_only_admins_reach_account_administration(app, world):
    with world.archive.db.transaction() as s:
        create_account(s, username="kiem.tra", role="auditor", password=PASSWORD)
        create_account(s, username="luu.tru", role="archivist", password=PASSWORD)
    for username in ("kiem.tra", "luu.tru", "sonnam"):
        c = _client(app)
        assert login(c, username).status_code == 302
        assert c.get("/quan-tri/tai-khoan/").status_code == 403, username


def _fingerprint(archive) -> str:
    """A digest of every table but the audit trail."""
    digest = hashlib.sha256()
    with archive.db.engine.connect() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            if table in ("audit_event", "alembic_version"):
                continue
            for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _get_routes(app, world) -> list[str]:
    values = {"doc_id": world.docs["an_tao"], "file_id": world.files["an_tao"], "page_no": 1, "code": "11953",
              "unit_code": "11956", "package_id": 1, "account_id": 1, "token_id": 1, "filename": "style.css"}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{name}>", str(values.get(name, 1)), url)
        urls.append(url)
    return urls


def test_no_lookup_route_writes_anything_but_the_audit_trail(app, world):
    c = _client(app)
    assert login(c, "phohien").status_code == 302
    before = _fingerprint(world.archive)
    for url in _get_routes(app, world):
        for query in ("", "?q=bao+cao&verb=Identify&page=2"):
            r = c.get(url + query)
            assert r.status_code < 500, (url, r.status_code)
    token = csrf_token(c.get("/").get_data(as_text=True))
    for endpoint, url in _post_routes(app):
        if endpoint in ("auth.logout", "auth.change_password", "tokens.create", "tokens.revoke", "oai.endpoint",
                        "saved_searches.create", "saved_searches.remove"):
            continue  # its own session, password, tokens and saved searches (test_portal_saved_searches); OAI reads
        r = c.post(url, data={"csrf_token": token, "username": "x", "role": "admin"})
        assert r.status_code == 403, (endpoint, r.status_code)
    assert c.post("/oai", data={"verb": "Identify"}).status_code < 500
    assert _fingerprint(world.archive) == before
    assert c.get("/").status_code == 200  # still signed in: nothing above ended the session


def test_a_view_that_tried_to_write_for_a_lookup_account_would_be_stopped(app, world):
    """The guard under the routes: any flush of a change other than the audit trail is refused."""
    from flask_login import login_user
    from werkzeug.exceptions import Forbidden

    from archive_portal.auth import user_from_account
    from archive_core.db.models import AuditEvent

    with world.archive.db.session() as s:
        user = user_from_account(s, s.query(Account).filter_by(username="phohien").one())
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.46.1.1"}):
        login_user(user)
        from flask import session as web_session

        web_session["_seen"] = time.time()
        assert app.preprocess_request() is None
        with world.archive.db.session() as s:
            s.query(Account).filter_by(username="phohien").one().display_name = "Đã sửa"
            with pytest.raises(Forbidden):
                s.flush()
            s.rollback()
            s.add(AuditEvent(action="thu", username="phohien", details={}))
            s.flush()  # the audit trail is allowed
            s.rollback()
    assert _row(world, "phohien").display_name == "Cán bộ Phố Hiến"
