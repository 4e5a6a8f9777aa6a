"""A tamper-evident audit trail (issue 10, finding 5): an HMAC chain keyed outside the database
and signed checkpoints outside it, so edits, re-hashing and deletions (the newest records too)
all fail ``archive audit verify``; a trail begun before the key still verifies.

On both backends (``sqlite-fts``, ``postgresql-opensearch``): the tamper goes through the archive's own
database connection (tests/portal/audit_helpers.py), dropping that database's append-only triggers first."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import drop_guard, rehash_from, renumber_after, sql
from click.testing import CliRunner
from sqlalchemy import MetaData, select

from archive_core.context import Archive
from archive_core.db.session import Database
from archive_core.settings import Settings
from archive_portal.cli import main as cli
from archive_portal.services import audit
from tests.backends import archive_environment, backend_overrides, close_archive


def open_archive(home: Path, **overrides) -> Archive:
    overrides.setdefault("database_url", f"sqlite:///{home / 'archive.sqlite'}")
    return Archive.open(Settings.load(home=home, secret_key="k", **overrides))


def fill(archive: Archive, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        audit.record(archive, "search", username=f"can-bo-{i}", new_unit_code="11953", client="10.0.0.1",
                     details={"q": f"báo cáo {i}", "total": i})


def verify(archive: Archive) -> audit.VerifyResult:
    with archive.db.session() as session:
        return audit.verify(session)


@pytest.fixture
def overrides(request, backend) -> dict:
    return backend_overrides(request, backend)


@pytest.fixture
def archive(tmp_path, overrides):
    a = open_archive(tmp_path / "home", **overrides)
    fill(a, 8)
    yield a
    close_archive(a)


def stored_text(archive: Archive) -> str:
    """Every row of every table of the archive's database, as text."""
    metadata = MetaData()
    metadata.reflect(archive.db.engine)
    with archive.db.engine.connect() as connection:
        return "\n".join(repr(tuple(row)) for table in metadata.tables.values()
                         for row in connection.execute(select(table)))


def test_an_intact_trail_verifies_with_its_key_and_checkpoints(archive):
    result = verify(archive)
    assert result.ok and result.keyed and result.records == 8 and result.checkpoints == 8
    key_file = archive.settings.audit_key_file
    assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
    secret = json.loads(key_file.read_text())["key"]
    assert secret not in stored_text(archive)
    if archive.db.engine.dialect.name == "sqlite":  # and not in the file's free pages either
        assert secret.encode() not in (archive.settings.home / "archive.sqlite").read_bytes()


def test_an_edited_record_fails(archive):
    sql(drop_guard(archive), "UPDATE audit_event SET target = 'van-ban:999' WHERE id = 3")
    result = verify(archive)
    assert not result.ok and result.problem.id == 3


def test_an_edit_rehashed_without_the_key_fails(archive):
    sql(drop_guard(archive), "UPDATE audit_event SET username = 'nguoi-khac' WHERE id = 3")
    rehash_from(archive, 3)
    result = verify(archive)
    assert not result.ok and result.problem.id == 3


def test_a_deleted_middle_record_renumbered_and_rehashed_fails(archive):
    sql(drop_guard(archive), "DELETE FROM audit_event WHERE id = 4")
    renumber_after(archive, 4)
    rehash_from(archive, 4)
    assert not verify(archive).ok


def test_deleting_the_newest_records_fails(archive):
    sql(drop_guard(archive), "DELETE FROM audit_event WHERE id >= 7")
    result = verify(archive)
    assert not result.ok and result.problem.id == 7 and "xóa" in result.problem.reason


def test_a_forged_checkpoint_fails(archive):
    sql(drop_guard(archive), "DELETE FROM audit_event WHERE id >= 7")
    path = archive.settings.audit_checkpoint_file
    kept = [line for line in path.read_text().splitlines() if json.loads(line)["id"] < 7]
    path.write_text("\n".join(kept) + "\n" + json.dumps({"id": 6, "hash": "0" * 64, "mac": "f" * 64}) + "\n")
    assert not verify(archive).ok


def test_archive_audit_verify_exits_1_on_tampering(archive):
    env = archive_environment(archive.settings)
    good = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert good.exit_code == 0 and "8 mốc kiểm tra" in good.output
    sql(drop_guard(archive), "DELETE FROM audit_event WHERE id = 8")
    bad = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert bad.exit_code == 1 and "#8" in bad.output


def test_a_trail_begun_before_the_key_keeps_verifying_and_its_past_is_pinned(tmp_path, overrides):
    home = tmp_path / "home"
    old = open_archive(home, **overrides)
    old.close()
    bare = Database(old.settings.database_url)  # how records were written before the key
    with bare.transaction() as session:
        for i in range(4):
            audit.record(session, "login", username=f"cu-{i}", client="cli")
    bare.dispose()
    assert not (home / "audit.key").exists()
    archive = open_archive(home, **overrides)
    try:
        fill(archive, 3)
        result = verify(archive)
        assert result.ok and result.records == 7 and result.checkpoints == 4  # the pin at #4, then #5-#7
        assert json.loads((home / "audit.key").read_text())["legacy_until"] == 4
        sql(drop_guard(archive), "UPDATE audit_event SET username = 'sua' WHERE id = 2")
        rehash_from(archive, 2)  # a consistent plain chain up to #4 ... which the checkpoint pinned
        assert not verify(archive).ok
    finally:
        close_archive(archive)


def test_the_key_never_goes_into_a_backup(archive, tmp_path):
    env = archive_environment(archive.settings)  # on PostgreSQL: pg_dump
    dest = tmp_path / "backups"
    result = CliRunner().invoke(cli, ["backup", str(dest), "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    secret = json.loads(archive.settings.audit_key_file.read_text())["key"].encode()
    copied = [p for p in dest.rglob("*") if p.is_file()]
    assert copied and not any(secret in p.read_bytes() for p in copied)
    assert not any(p.name in ("audit.key", "audit-checkpoints.jsonl") for p in copied)
