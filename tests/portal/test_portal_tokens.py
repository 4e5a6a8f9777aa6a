"""API tokens: only a hash is kept, the account's scope at each request, expiry, revocation, CLI and portal page."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from archive_core.db.models import Account, ApiToken
from archive_core.clock import utcnow
from archive_portal.services.tokens import TokenError, create_token, find_account
from portal_helpers import csrf_token, login
from token_helpers import bearer, ensure_account, new_token

TOKEN_RE = re.compile(r"hya_[A-Za-z0-9_\-]{40,}")


def _ids(client, token, **params):
    r = client.get("/api/v1/search", query_string=params, headers=bearer(token))
    assert r.status_code == 200, r.data
    return {h["id"] for h in r.get_json()["hits"]}


def test_only_the_sha256_is_stored(world):
    token = new_token(world, "phohien", name="LGSP")
    with world.archive.db.session() as session:
        rows = session.scalars(select(ApiToken)).all()
    assert all(token not in (r.token_hash, r.prefix, r.name) for r in rows)
    assert hashlib.sha256(token.encode()).hexdigest() in {r.token_hash for r in rows}
    assert len(token) >= 40  # 256 random bits


def test_a_token_sees_exactly_its_accounts_scope(client, world):
    son_nam, pho_hien = new_token(world, "sonnam"), new_token(world, "phohien")
    assert _ids(client, son_nam, q="báo cáo") == {world.docs["lam_son"], world.docs["district"]}
    assert _ids(client, pho_hien, q="báo cáo") == {world.docs["an_tao"], world.docs["district"]}
    # Out of scope is a 404 like a missing document; withheld never shows.
    for doc in ("an_tao", "withheld"):
        assert client.get(f"/api/v1/documents/{world.docs[doc]}", headers=bearer(son_nam)).status_code == 404
        f = world.files.get(doc)
        if f:
            assert client.get(f"/api/v1/documents/{world.docs[doc]}/files/{f}", headers=bearer(son_nam)).status_code == 404
        assert client.get(f"/api/v1/documents/{world.docs[doc]}/text", headers=bearer(son_nam)).status_code == 404
    facets = client.get("/api/v1/search", query_string={"q": "bao cao"}, headers=bearer(son_nam)).get_json()["facets"]
    assert {v["value"] for v in facets["unit_code"]["values"]} == {"11950", "323"}
    assert client.get("/api/v1/units/11953", headers=bearer(son_nam)).status_code == 404
    units = client.get("/api/v1/units", headers=bearer(son_nam)).get_json()["units"]
    assert [u["code"] for u in units] == ["11983"]
    assert {"11950", "323"} <= {p["code"] for p in units[0]["predecessors"]}


def test_archivist_token_sees_all_and_gets_originals(client, world):
    ensure_account(world, "luutru-api", "archivist")
    token = new_token(world, "luutru-api")
    assert _ids(client, token, q="báo cáo") == {world.docs[k] for k in ("lam_son", "an_tao", "district")}
    r = client.get(f"/api/v1/documents/{world.docs['an_tao']}/files/{world.files['an_tao']}", headers=bearer(token))
    assert r.status_code == 200 and r.mimetype == "image/tiff"  # the original bytes, unstamped
    assert client.get(f"/api/v1/documents/{world.docs['withheld']}", headers=bearer(token)).status_code == 404
    assert len(client.get("/api/v1/units", headers=bearer(token)).get_json()["units"]) > 10


def test_lookup_token_downloads_a_stamped_copy(client, world):
    token = new_token(world, "sonnam")
    r = client.get(f"/api/v1/documents/{world.docs['lam_son']}/files/{world.files['lam_son']}", headers=bearer(token))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    from archive_portal.services.documents import open_original

    with world.archive.db.session() as session:
        original = open_original(session, world.archive, world.docs["lam_son"], world.files["lam_son"], None)
    assert r.data != original.path.read_bytes()  # a stamped copy, not the original


def test_missing_bad_revoked_and_expired_tokens_are_refused(client, world):
    assert client.get("/api/v1/search").status_code == 401
    assert client.get("/api/v1/search").headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer hya_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "hya_abc"):
        r = client.get("/api/v1/search", headers={"Authorization": header})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    token = new_token(world, "sonnam")
    assert client.get("/api/v1/search", headers=bearer(token)).status_code == 200
    with world.archive.db.transaction() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
        token_id = row.id
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/api/v1/search", headers=bearer(token)).status_code == 401
    token = new_token(world, "sonnam")
    runner = CliRunner()
    from archive_portal.cli import main

    env = {"ARCHIVE_HOME": str(world.archive.settings.home),
           "ARCHIVE_DATABASE_URL": world.archive.settings.database_url}
    listed = runner.invoke(main, ["tokens", "list", "--username", "sonnam"], env=env)
    assert listed.exit_code == 0 and token[:8] in listed.output and token not in listed.output
    with world.archive.db.session() as session:
        latest = session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))
    revoked = runner.invoke(main, ["tokens", "revoke", str(latest)], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/search", headers=bearer(token)).status_code == 401
    assert token_id != latest


def test_a_disabled_or_expired_account_stops_its_tokens(client, world):
    ensure_account(world, "tam-ngung", "lookup", "11983")
    token = new_token(world, "tam-ngung")
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 200
    with world.archive.db.transaction() as session:
        find_account(session, "tam-ngung").active = False
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401
    with world.archive.db.transaction() as session:
        account = find_account(session, "tam-ngung")
        account.active = True
        account.expires_at = utcnow() - timedelta(minutes=1)
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401


def test_scope_follows_the_units_mapping_in_force(client, world, tmp_path):
    """A new mapping version that moves Lam Sơn to Phố Hiến moves it for existing tokens at once."""
    from archive_portal.services.units import import_mapping
    from conftest import UNITS_CSV

    ensure_account(world, "remap", "lookup", "11953")
    token = new_token(world, "remap")
    assert world.docs["lam_son"] not in _ids(client, token, q="báo cáo")
    lines = UNITS_CSV.read_text(encoding="utf-8").splitlines()
    moved = [line.replace(",11983,Phường Sơn Nam,", ",11953,Phường Phố Hiến,") if line.startswith("11950,") else line
             for line in lines]
    remapped = tmp_path / "units-v2.csv"
    remapped.write_text("\n".join(moved) + "\n", encoding="utf-8")
    try:
        with world.archive.db.transaction() as session:
            import_mapping(session, remapped)
        assert world.docs["lam_son"] in _ids(client, token, q="báo cáo")
    finally:  # put the original mapping back in force for the other tests
        with world.archive.db.transaction() as session:
            import_mapping(session, UNITS_CSV)
    assert world.docs["lam_son"] not in _ids(client, token, q="báo cáo")


def test_tokens_only_for_lookup_and_archivist_accounts(world):
    with world.archive.db.transaction() as session:
        admin = session.scalar(select(Account).where(Account.username == "admin"))
        try:
            create_token(session, admin)
        except TokenError:
            pass
        else:
            raise AssertionError("an admin token was created")
        for bad_days in (0, 367):
            try:
                create_token(session, find_account(session, "sonnam"), days=bad_days)
            except TokenError:
                continue
            raise AssertionError(f"a token of {bad_days} days was created")


def test_cli_create_prints_the_token_once(world):
    from archive_portal.cli import main

    env = {"ARCHIVE_HOME": str(world.archive.settings.home), "ARCHIVE_DATABASE_URL": world.archive.settings.database_url}
    result = CliRunner().invoke(main, ["tokens", "create", "--username", "phohien", "--days", "7", "--name", "LGSP"], env=env)
    assert result.exit_code == 0, result.output
    token = TOKEN_RE.search(result.output).group(0)
    from flask import Flask  # noqa: F401  (the app fixture is not needed: the service decides)
    with world.archive.db.session() as session:
        from archive_portal.services.tokens import authenticate_token

        found = authenticate_token(session, token)
        assert found is not None and found[1].username == "phohien"
        assert found[0].expires_at - utcnow() < timedelta(days=7, minutes=1)
    refused = CliRunner().invoke(main, ["tokens", "create", "--username", "admin"], env=env)
    assert refused.exit_code != 0 and "hya_" not in refused.output


def test_portal_page_creates_shows_once_and_revokes(app, world):
    ensure_account(world, "trang-ma", "lookup", "11953")
    client = app.test_client()
    assert login(client, "trang-ma").status_code == 302
    page = client.get("/ma-truy-cap/")
    assert page.status_code == 200 and "Chưa có mã truy cập nào" in page.get_data(as_text=True)
    # CSRF is required.
    assert client.post("/ma-truy-cap/", data={"name": "x", "days": "30"}).status_code == 400
    created = client.post("/ma-truy-cap/", data={"name": "Hệ thống LGSP", "days": "30",
                                                 "csrf_token": csrf_token(page.get_data(as_text=True))})
    html = created.get_data(as_text=True)
    assert created.status_code == 201
    token = TOKEN_RE.search(html).group(0)
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 200
    again = client.get("/ma-truy-cap/").get_data(as_text=True)
    assert token not in again and token[:10] in again and "Hệ thống LGSP" in again
    with world.archive.db.session() as session:
        token_id = session.scalar(select(ApiToken.id).where(
            ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
    assert client.post(f"/ma-truy-cap/{token_id}/thu-hoi").status_code == 400  # no CSRF token
    revoked = client.post(f"/ma-truy-cap/{token_id}/thu-hoi", data={"csrf_token": csrf_token(again)})
    assert revoked.status_code == 302
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401
    assert "Đã thu hồi" in client.get("/ma-truy-cap/").get_data(as_text=True)


def test_portal_page_cannot_touch_someone_elses_token(app, world, as_phohien):
    other = new_token(world, "sonnam")
    with world.archive.db.session() as session:
        other_id = session.scalar(select(ApiToken.id).where(
            ApiToken.token_hash == hashlib.sha256(other.encode()).hexdigest()))
    page = as_phohien.get("/ma-truy-cap/").get_data(as_text=True)
    r = as_phohien.post(f"/ma-truy-cap/{other_id}/thu-hoi", data={"csrf_token": csrf_token(page)})
    assert r.status_code == 404
    assert app.test_client().get("/api/v1/units", headers=bearer(other)).status_code == 200


def test_admin_has_no_token_page(as_admin):
    assert as_admin.get("/ma-truy-cap/").status_code == 403
