"""The audit trail: what is recorded, the hash chain, the trail in the portal, CSV export, append-only.

Each test builds its own world (the trail of a shared one would mix tests), on both backends: ``sqlite-fts`` and
``postgresql-opensearch`` (the database's append-only guard, writers in several processes under PostgreSQL's
advisory lock, ``archive audit verify`` configured through the environment).
"""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from multiprocessing import get_context
from pathlib import Path

import pytest
from audit_helpers import drop_guard, edit, sql
from conftest import build_world
from portal_helpers import csrf_token, login
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from archive_core.db.models import AuditEvent
from archive_portal import create_app
from archive_portal.services import audit
from tests.backends import archive_environment, backend_overrides, close_archive


@pytest.fixture
def overrides(request, backend) -> dict:
    return backend_overrides(request, backend)


@pytest.fixture
def world(tmp_path, overrides):
    w = build_world(tmp_path / "home", **overrides)
    yield w
    close_archive(w.archive)


@pytest.fixture
def app(world):
    return create_app(archive=world.archive)


def events(world, **where) -> list[AuditEvent]:
    with world.archive.db.session() as session:
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return list(session.scalars(stmt))


def signed_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_reads_of_a_lookup_account_are_recorded_with_account_unit_and_address(app, world):
    client = signed_in(app, "phohien")
    doc, f = world.docs["an_tao"], world.files["an_tao"]
    client.get("/?q=báo cáo&type=Quyết định")
    client.get(f"/van-ban/{doc}")
    client.get(f"/van-ban/{doc}/tep/{f}/trang/1.png")
    client.get(f"/van-ban/{doc}/tep/{f}/tai-ve")
    client.get(f"/van-ban/{world.docs['lam_son']}")  # outside the scope: refused, and recorded
    client.get("/api/v1/search?q=báo cáo")
    trail = events(world, username="phohien")
    actions = [e.action for e in trail]
    assert actions[0] == "login"
    for action in ("search", "document_view", "page_image", "file_download", "api_search"):
        assert action in actions, action
    assert all(e.new_unit_code == "11953" for e in trail)
    assert all(e.client_address == "127.0.0.1" for e in trail)
    search = next(e for e in trail if e.action == "search")
    assert search.details["q"] == "báo cáo"
    assert search.details["filters"] == {"type": ["Quyết định"]}
    assert search.details["total"] == 1
    download = next(e for e in trail if e.action == "file_download")
    assert download.target == f"van-ban:{doc}/tep:{f}" and download.details["stamped"] is True
    refused = [e for e in trail if e.action == "document_view" and e.details.get("found") is False]
    assert [e.target for e in refused] == [f"van-ban:{world.docs['lam_son']}"]


def test_failed_sign_in_and_sign_out_are_recorded(app, world):
    client = app.test_client()
    assert login(client, "phohien.ra", "sai-mat-khau-roi").status_code == 401
    assert login(client, "khong-ton-tai", "sai-mat-khau-roi").status_code == 401
    assert login(client, "phohien.ra").status_code == 302
    page = client.get("/").get_data(as_text=True)
    client.post("/dang-xuat", data={"csrf_token": csrf_token(page)})
    actions = [(e.action, e.username) for e in events(world)]
    assert ("login_failed", "phohien.ra") in actions
    assert ("login_failed", "khong-ton-tai") in actions
    assert actions[-1] == ("logout", "phohien.ra")


def test_forwarded_address_is_believed_only_behind_a_configured_proxy(world):
    from dataclasses import replace

    def failed_login(app) -> None:
        client = app.test_client()
        page = client.get("/dang-nhap", headers={"X-Forwarded-For": "203.0.113.7"}).get_data(as_text=True)
        client.post("/dang-nhap", data={"username": "admin", "password": "sai-mat-khau-roi",
                                         "csrf_token": csrf_token(page)}, headers={"X-Forwarded-For": "203.0.113.7"})

    seen = len(events(world, action="login_failed"))
    failed_login(create_app(archive=world.archive))  # no proxy configured: the header is a client's claim
    original = world.archive.settings
    world.archive.settings = replace(original, trusted_proxies=1)
    try:
        failed_login(create_app(archive=world.archive))
    finally:
        world.archive.settings = original  # the shared world as it was
    failures = events(world, action="login_failed")[seen:]
    assert [e.client_address for e in failures] == ["127.0.0.1", "203.0.113.7"]


def test_chain_verifies_and_the_database_refuses_changes(app, world):
    signed_in(app, "sonnam").get("/?q=kế hoạch")
    with world.archive.db.session() as session:
        result = audit.verify(session)
    assert result.ok and result.records >= 2
    statements = ["UPDATE audit_event SET username = 'x'", "DELETE FROM audit_event"]
    if world.archive.db.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_event")
    for statement in statements:  # through the archive's own connection
        with pytest.raises(DBAPIError, match="append-only"):
            sql(world.archive, statement)
    with world.archive.db.session() as session:
        assert audit.verify(session).records == result.records


def _append_many(home: str, overrides: dict, worker: int, count: int) -> None:
    from archive_core.context import Archive
    from archive_core.settings import Settings

    archive = Archive.open(Settings.load(home=Path(home), **overrides), migrate=False)
    for i in range(count):
        if i % 2:
            audit.record(archive, "search", username=f"w{worker}", details={"i": i})
        else:  # inside a caller's transaction that has already read something
            with archive.db.transaction() as session:
                session.execute(select(AuditEvent.id).limit(1)).all()
                audit.record(session, "search", username=f"w{worker}", details={"i": i})
    archive.close()


def test_writers_in_several_processes_do_not_fork_the_chain(world, overrides):
    home = str(world.archive.settings.home)
    before = len(events(world))
    ctx = get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(home, overrides, n, 25)) for n in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    assert [p.exitcode for p in workers] == [0, 0, 0]
    with world.archive.db.session() as session:
        result = audit.verify(session)
    assert result.ok, result.problem
    assert result.records == before + 75


def test_auditor_browses_filters_and_exports_the_trail(app, world):
    from portal_helpers import PASSWORD

    from archive_portal.services.accounts import create_account

    with world.archive.db.transaction() as session:
        create_account(session, username="kiemtra", role="auditor", password=PASSWORD)
    signed_in(app, "sonnam").get("/?q=sắp xếp")
    signed_in(app, "phohien").get("/?q=đường")
    auditor = signed_in(app, "kiemtra")
    page = auditor.get("/nhat-ky/?username=phohien&action=search")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "phohien" in html and "sonnam" not in html
    assert "Tìm kiếm" in html
    by_unit = auditor.get("/nhat-ky/?unit=11983").get_data(as_text=True)
    assert "sonnam" in by_unit and "phohien" not in by_unit
    assert auditor.get("/nhat-ky/?since=31/02/2025").status_code == 400
    future = auditor.get("/nhat-ky/?since=01/01/2099 00:00").get_data(as_text=True)
    assert "Không có bản ghi nào" in future
    today = auditor.get("/nhat-ky/?since=01/01/2020&until=31/12/2098 23:59&action=login").get_data(as_text=True)
    assert "phohien" in today and "sonnam" in today

    exported = auditor.get("/nhat-ky/csv?username=phohien")
    assert exported.status_code == 200
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and {r["tai_khoan"] for r in rows} == {"phohien"}
    assert {"login", "search"} <= {r["hanh_dong"] for r in rows}
    assert all(len(r["hash"]) == 64 for r in rows)
    # reading the trail is itself recorded
    assert {e.action for e in events(world, username="kiemtra")} >= {"audit_view", "audit_export"}


def test_lookup_accounts_cannot_see_the_trail(app, world):
    client = signed_in(app, "phohien")
    assert client.get("/nhat-ky/").status_code == 403
    assert client.get("/nhat-ky/csv").status_code == 403
    assert app.test_client().get("/nhat-ky/").status_code == 302  # anonymous: to the sign-in page


def _archive_cli(world, *args: str) -> subprocess.CompletedProcess:
    """``archive ARGS`` in a process of its own, configured through the environment as an admin would."""
    import os

    env = dict(os.environ, **archive_environment(world.archive.settings))
    return subprocess.run([sys.executable, "-m", "archive_portal.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_audit_verify_command_finds_a_tampered_record(app, world):
    client = signed_in(app, "phohien")
    client.get("/?q=báo cáo")
    client.get(f"/van-ban/{world.docs['an_tao']}")
    ok = _archive_cli(world, "audit", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "nguyên vẹn" in ok.stdout

    target = events(world, action="search")[0].id
    # someone with write access to the database: drop the guard, edit a row
    edit(drop_guard(world.archive), target, details={"q": "vô hại"})
    bad = _archive_cli(world, "audit", "verify")
    assert bad.returncode == 1
    assert f"#{target}" in bad.stdout and "bị sửa" in bad.stdout


def test_audit_verify_command_finds_a_deleted_record(app, world):
    client = signed_in(app, "phohien")
    client.get("/?q=báo cáo")
    client.get(f"/van-ban/{world.docs['an_tao']}")
    target = events(world, action="search")[0].id
    sql(drop_guard(world.archive), "DELETE FROM audit_event WHERE id = :id", id=target)
    bad = _archive_cli(world, "audit", "verify")
    assert bad.returncode == 1
    assert f"#{target + 1}" in bad.stdout and "xóa" in bad.stdout
