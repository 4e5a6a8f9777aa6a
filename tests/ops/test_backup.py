"""Backup, destruction and restore of a real data home: same searches, same originals, consistent under load."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, select

from archive_core import programs
from archive_core.context import Archive
from archive_core.db.models import Blob, Document, DocumentFile
from archive_core.settings import Settings
from archive_core.store import blob_path, sha256_file
from archive_ops.backup import backup
from archive_ops.restore import restore
from archive_ops.snapshots import BackupError, list_snapshots, read_objects
from archive_ops.verify import verify
from archive_portal.cli import main
from archive_portal.services import audit
from archive_portal.services.accounts import create_account
from archive_portal.services.tokens import create_token
from indexes.query import build_query
from ingest.pipeline import IngestOptions, ingest_package
from tests.backends import archive_environment, backend_overrides, close_archive

from .conftest import make_bag, populated_home

QUERIES = [
    ("", None), ("", frozenset({"11950"})), ("", frozenset({"11956"})), ("ke hoach", None),
    ("báo cáo", frozenset({"11950", "323"})), ("ubnd", None),
]


def searches(archive) -> list[tuple]:
    """Every query's total, hit ids in order and facets: what a user sees."""
    seen = []
    for text, scope in QUERIES:
        result = archive.engine.search(build_query(text, scope=scope, per_page=50))
        facets = {name: [(v.value, v.count) for v in values] for name, values in result.facets.items()}
        seen.append((text, result.total, [h.id for h in result.hits], facets))
    return seen


def originals(archive) -> dict[str, str]:
    """Every original the database names -> the SHA-256 of the bytes in the store."""
    with archive.db.session() as session:
        shas = session.scalars(select(Blob.sha256)).all()
    return {sha: sha256_file(blob_path(archive.settings.store_dir, sha))[0] for sha in shas}


def database_rows(archive) -> dict[str, list[tuple]]:
    """Every row of every table (accounts, tokens, audit chain, unit versions, page text...), in key order."""
    metadata = MetaData()
    metadata.reflect(archive.db.engine)
    with archive.db.engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*(table.primary_key.columns or table.columns)))]
                for name, table in metadata.tables.items()}


def people_and_their_trail(archive) -> None:
    """What a running archive holds besides documents: accounts, an API token, audit records."""
    with archive.db.transaction() as session:
        phohien, _ = create_account(session, username="phohien", role="lookup", new_unit_code="11953",
                                    password="Tra-cuu-2025-abc")
        create_account(session, username="luutru", role="archivist", password="Luu-tru-2025-abc")
        create_token(session, phohien, name="LGSP", days=30)
        audit.record(session, "search", account=phohien, details={"q": "kế hoạch", "hits": 3})


def test_backup_is_incremental_and_restore_gives_back_the_same_archive(home, tmp_path, backend_settings):
    people_and_their_trail(home)
    before_rows = database_rows(home)
    assert before_rows["account"] and before_rows["api_token"] and before_rows["audit_event"]
    assert before_rows["page"] and before_rows["unit_mapping_version"]
    before_searches, before_originals = searches(home), originals(home)
    assert before_searches[0][1] == 7  # 8 documents, one of them secret (never indexed)
    n = len(before_originals)  # 8 PDFs, and each package's own manifests, kept as originals too
    assert n >= 8 and all(k == v for k, v in before_originals.items())
    dest = tmp_path / "backup"

    first = backup(home, dest)
    assert first.objects == n and first.objects_copied == n
    store_files = sorted((dest / "store").glob("??/??/*"))
    mtimes = {p: p.stat().st_mtime_ns for p in store_files}
    second = backup(home, dest)
    assert second.objects_copied == 0 and second.objects_reused == n and second.bytes_copied == 0
    assert {p: p.stat().st_mtime_ns for p in sorted((dest / "store").glob("??/??/*"))} == mtimes
    assert list_snapshots(dest) == sorted([first.snapshot, second.snapshot])
    manifest = (second.path / "manifest-sha256.txt").read_text()
    database = "data/database.pgdump" if home.settings.database_url.startswith("postgresql") else "data/archive.sqlite"
    assert database in manifest and "data/store-objects.txt" in manifest  # pg_dump on PostgreSQL
    assert {sha for sha, _ in read_objects(second.path)} == set(before_originals)

    home_dir = home.settings.home
    close_archive(home)  # on a cluster its index goes too
    shutil.rmtree(home_dir)
    target = backend_settings(home_dir)  # on PostgreSQL an empty database: pg_restore fills it
    result = restore(dest, target)
    assert result.objects == n and result.index == "rebuilt" and result.documents_indexed == 7
    restored = Archive.open(target)
    try:
        assert searches(restored) == before_searches
        assert originals(restored) == before_originals
        assert database_rows(restored) == before_rows, "every table back as it was"
        assert verify(restored).ok
    finally:
        close_archive(restored)


def test_backup_with_index_restores_the_index_and_keep_prunes(home, tmp_path, backend_settings, request, backend):
    before = searches(home)
    dest = tmp_path / "backup"
    for _ in range(3):
        result = backup(home, dest, keep=2, with_index=True)
    assert len(list_snapshots(dest)) == 2
    copied = {"sqlite": "fts.sqlite", "tantivy": "tantivy"}.get(home.settings.index_engine)
    embedded = copied is not None
    # an embedded index is copied; a cluster keeps its own index, so a restore rebuilds it from the database
    assert result.with_index is embedded
    assert (result.path / "data" / "index" / (copied or "")).exists() is embedded
    target = backend_settings(tmp_path / "restored")
    restored_result = restore(dest, target)
    if embedded:
        assert restored_result.index == "restored" and restored_result.documents_indexed == 0
    else:
        assert restored_result.index == "rebuilt" and restored_result.documents_indexed == 7
    restored = Archive.open(target)
    try:
        assert searches(restored) == before
    finally:
        close_archive(restored)

    # another home backed up into the same place with --keep 1: the first home's originals go
    # (same bags rendered again: same bytes, same hashes)
    other = populated_home(tmp_path / "other", **backend_overrides(request, backend))
    try:
        lone = backup(other, dest, keep=1)
    finally:
        close_archive(other)
    assert list_snapshots(dest) == [lone.snapshot] and len(lone.pruned_snapshots) == 2
    assert {p.name for p in (dest / "store").glob("??/??/*")} == {sha for sha, _ in read_objects(lone.path)}


def test_restore_refuses_a_home_in_use_and_a_damaged_backup(home, tmp_path, backend_settings):
    dest = tmp_path / "backup"
    backup(home, dest)
    with pytest.raises(BackupError, match="không trống"):
        restore(dest, home.settings)
    # an empty data home, but the database in use: refused before anything is written
    in_use = "đã có bảng" if home.settings.database_url.startswith("postgresql") else "đã tồn tại"
    with pytest.raises(BackupError, match=in_use):
        restore(dest, replace(home.settings, home=tmp_path / "empty-home"))
    assert not (tmp_path / "empty-home").exists()
    victim = next((dest / "store").glob("??/??/*"))
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="hỏng hoặc thiếu"):
        restore(dest, backend_settings(tmp_path / "fresh"))


def test_cli_backup_and_restore(home, tmp_path, monkeypatch, backend_env):
    runner = CliRunner()
    for name, value in archive_environment(home.settings).items():  # as an admin configures the commands
        monkeypatch.setenv(name, value)
    dest = tmp_path / "backup"
    n = len(originals(home))
    out = runner.invoke(main, ["backup", str(dest), "--keep", "3", "--quiet"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert f"{n} mới / new" in out.output
    again = runner.invoke(main, ["backup", str(dest), "--quiet"], catch_exceptions=False)
    assert "0 mới / new" in again.output and f"{n} đã có / already there" in again.output
    refused = runner.invoke(main, ["restore", str(dest)])
    assert refused.exit_code != 0 and "không trống" in refused.output
    for name, value in backend_env(tmp_path / "restored").items():  # on PostgreSQL: an empty database
        monkeypatch.setenv(name, value)
    first = list_snapshots(dest)[0]
    done = runner.invoke(main, ["restore", str(dest), "--snapshot", first, "--quiet"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert first in done.output
    checked = runner.invoke(main, ["verify", "--quiet"], catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    restored = Archive.open(Settings.load())  # the restored home, as the commands saw it
    try:
        assert restored.engine.count() == 7
    finally:
        close_archive(restored)


def snapshot_rows(snapshot: Path, table: str) -> list[dict]:
    """The rows of ``table`` in a snapshot's own database copy, read without restoring it: the SQLite copy,
    or the pg_dump archive through ``pg_restore --data-only`` (its COPY text)."""
    copy = snapshot / "data" / "archive.sqlite"
    if copy.is_file():
        connection = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        connection.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in connection.execute(f"SELECT * FROM {table}")]
        finally:
            connection.close()
    dump = snapshot / "data" / "database.pgdump"
    done = subprocess.run([programs.find("pg_restore") or "pg_restore", "--data-only", f"--table={table}",
                           "--file=-", str(dump)], capture_output=True, text=True, check=True)
    lines = iter(done.stdout.splitlines())
    for line in lines:
        if line.startswith(f"COPY public.{table} ("):
            columns = [c.strip().strip('"') for c in line.split("(", 1)[1].split(")", 1)[0].split(",")]
            break
    else:
        raise AssertionError(f"no data of {table} in {dump}")
    rows = []
    for line in lines:
        if line == "\\.":
            return rows
        rows.append({c: None if v == "\\N" else v for c, v in zip(columns, line.split("\t"), strict=True)})
    raise AssertionError(f"the data of {table} in {dump} does not end")


def test_backup_while_ingest_writes_restores_consistent_databases(home, tmp_path, backend_settings):
    bag = make_bag(tmp_path / "bag-big", "11956", 24, seed=9, prefix="BIG", pages=3)
    dest = tmp_path / "backup"
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            ingest_package(home, bag, IngestOptions(workers=1))
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=ingest)
    worker.start()
    during = []
    while worker.is_alive():  # an embedded index is copied too (Tantivy: one commit, while the ingest commits)
        during.append(backup(home, dest, with_index=True).snapshot)
    worker.join()
    assert not errors
    assert during, "no backup ran while the ingest was writing"

    def ingest_state(name: str) -> tuple[int, int]:
        """(documents of the big package, files still pending) in a snapshot's own database copy."""
        snapshot = dest / "snapshots" / name
        documents = sum(1 for row in snapshot_rows(snapshot, "document") if (row["ma_van_ban"] or "").startswith("BIG-"))
        pending = sum(1 for row in snapshot_rows(snapshot, "document_file") if row["status"] == "pending")
        return documents, pending

    mid_ingest = [name for name in during if (lambda s: 0 < s[0] < 24 or s[1] > 0)(ingest_state(name))]
    assert mid_ingest, "at least one snapshot caught the ingest half-way"
    final_documents = len(searches(home)[0][2])
    spread = sorted({during[0], mid_ingest[0], mid_ingest[-1], during[-1]})
    for index, name in enumerate(spread):
        target = backend_settings(tmp_path / f"restored-{index}")  # on PostgreSQL: pg_restore --exit-on-error
        restore(dest, target, snapshot=name)
        if target.database_url.startswith("sqlite"):
            connection = sqlite3.connect(target.home / "archive.sqlite")
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            connection.close()
        restored = Archive.open(target)
        try:
            with restored.db.session() as session:
                shas = session.scalars(select(DocumentFile.blob_sha256).where(DocumentFile.blob_sha256.is_not(None))).all()
                assert session.scalar(select(Document.id).limit(1)) is not None
            assert all(blob_path(restored.settings.store_dir, sha).is_file() for sha in shas)
            report = verify(restored)
            assert report.ok, report.problems
            assert len(searches(restored)[0][2]) <= final_documents
        finally:
            close_archive(restored)
