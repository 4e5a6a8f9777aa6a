"""Sessions and tokens end server-side; document bytes are never cached (issue 10, finding 7)."""
from __future__ import annotations

from click.testing import CliRunner
from portal_helpers import PASSWORD, csrf_token, login
from sqlalchemy import select
from token_helpers import bearer, new_token

from archive_core.db.models import AuditEvent
from archive_portal.cli import main as cli
from archive_portal.services.accounts import create_account, find_account, reset_password

_addresses = iter(range(1, 250))


def _client(app):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = f"10.46.0.{next(_addresses)}"
    return c


def _cookie(client) -> str:
    return client.get_cookie("archive_session").value


def _new_lookup(world, username: str) -> None:
    with world.archive.db.transaction() as s:
        create_account(s, username=username, role="lookup", new_unit_code="11953", password=PASSWORD)


def test_a_copied_cookie_stops_working_at_logout(app, world):
    _new_lookup(world, "cb.dangxuat")
    user = _client(app)
    assert login(user, "cb.dangxuat").status_code == 302
    thief = _client(app)
    thief.set_cookie("archive_session", _cookie(user))
    assert thief.get("/?q=báo+cáo").status_code == 200  # the copy works while the session lives
    token = csrf_token(user.get("/").get_data(as_text=True))
    assert user.post("/dang-xuat", data={"csrf_token": token}).status_code == 302
    assert thief.get("/?q=báo+cáo").status_code == 302  # back to the sign-in page
    assert login(_client(app), "cb.dangxuat").status_code == 302  # signing in again works


def test_a_reset_revokes_tokens_and_a_pending_change_refuses_them(app, world):
    _new_lookup(world, "cb.matoken")
    token = new_token(world, "cb.matoken")
    api = _client(app)
    assert api.get("/api/v1/search?q=báo+cáo", headers=bearer(token)).status_code == 200
    with world.archive.db.transaction() as s:
        reset_password(s, find_account(s, "cb.matoken"))
    assert api.get("/api/v1/search?q=báo+cáo", headers=bearer(token)).status_code == 401
    # A token made while the reset password is still to be changed does not work either.
    fresh = new_token(world, "cb.matoken")
    assert api.get("/api/v1/search?q=báo+cáo", headers=bearer(fresh)).status_code == 401


def test_cli_token_commands_are_audited(world):
    env = {"ARCHIVE_HOME": str(world.archive.settings.home), "ARCHIVE_DATABASE_URL": world.archive.settings.database_url}
    created = CliRunner().invoke(cli, ["tokens", "create", "--username", "phohien", "--days", "3"], env=env)
    assert created.exit_code == 0, created.output
    with world.archive.db.session() as s:
        made = s.scalars(select(AuditEvent).where(AuditEvent.action == "api_token_create",
                                                  AuditEvent.client_address == "cli")).all()
    assert made and made[-1].details["username"] == "phohien"
    token_id = made[-1].target.split(":")[1]
    assert CliRunner().invoke(cli, ["tokens", "list"], env=env).exit_code == 0
    assert CliRunner().invoke(cli, ["tokens", "revoke", token_id], env=env).exit_code == 0
    with world.archive.db.session() as s:
        actions = {e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.client_address == "cli"))}
    assert {"api_token_create", "api_token_list", "api_token_revoke"} <= actions


def test_every_document_byte_is_sent_no_store(as_phohien, as_admin, world):
    doc, f = world.docs["district"], world.files["district"]
    token = new_token(world, "phohien")
    for client, url, headers in (
        (as_phohien, f"/van-ban/{doc}/tep/{f}/trang/1.png", {}),
        (as_admin, f"/van-ban/{doc}/tep/{f}/trang/1.png", {}),
        (as_phohien, f"/van-ban/{doc}/tep/{f}/xem", {}),
        (as_phohien, f"/van-ban/{doc}/tep/{f}/tai-ve", {}),
        (as_admin, f"/van-ban/{doc}/tep/{f}/tai-ve", {}),
        (as_phohien, f"/van-ban/{doc}", {}),
        (as_phohien, f"/api/v1/documents/{doc}", bearer(token)),
        (as_phohien, f"/api/v1/documents/{doc}/text", bearer(token)),
        (as_phohien, f"/api/v1/documents/{doc}/files/{f}", bearer(token)),
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url
        assert "max-age=3600" not in response.headers["Cache-Control"], url
