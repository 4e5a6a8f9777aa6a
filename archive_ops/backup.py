"""Backups of a data home: one consistent snapshot while the archive runs (layout: ``snapshots``)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import bagit
from sqlalchemy import text
from sqlalchemy.engine import make_url

from archive_core import programs
from archive_core.context import Archive
from archive_core.store import blob_path
from indexes.tantivy_engine import TantivyEngine

from .snapshots import (
    INDEX_COPY,
    OBJECTS_LIST,
    PG_DUMP,
    REPORTS,
    SNAPSHOTS,
    SQLITE_COPY,
    STORE,
    TANTIVY_COPY,
    BackupError,
    BackupResult,
    Progress,
    alembic_revision,
    copy_verified,
    is_sqlite,
    libpq_env,
    list_snapshots,
    locked,
    read_objects,
    snapshot_name,
    sqlite_copy,
    sqlite_path,
    write_objects,
)

DUMP_TIMEOUT_S = (
    12 * 3600
)  # pg_dump of a province's database: hours at most; a hung dump must not hold the lock forever


# -- backup -----------------------------------------------------------------------------------
def _dump_database(archive: Archive, data: Path) -> tuple[str, list[tuple[str, int]]]:
    """Copy the database into ``data``; return its kind and the originals that copy names."""
    url = archive.settings.database_url
    if is_sqlite(url):
        copy = data / SQLITE_COPY
        sqlite_copy(sqlite_path(url), copy)
        connection = sqlite3.connect(str(copy))
        try:
            objects = [
                (sha, int(size)) for sha, size in connection.execute("SELECT sha256, size FROM blob ORDER BY sha256")
            ]
        finally:
            connection.close()
        return "sqlite", objects
    if not url.startswith("postgresql"):
        raise BackupError(f"Chưa hỗ trợ sao lưu cơ sở dữ liệu này: {make_url(url).drivername}")
    if programs.find("pg_dump") is None:
        raise BackupError(str(programs.ProgramMissing("pg_dump")))
    # The blob list is read on the very snapshot pg_dump dumps, so the two agree exactly.
    with (
        archive.db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as pg_connection,
        pg_connection.begin(),
    ):
        snapshot_id = pg_connection.execute(text("SELECT pg_export_snapshot()")).scalar()
        objects = [
            (sha, int(size))
            for sha, size in pg_connection.execute(text("SELECT sha256, size FROM blob ORDER BY sha256"))
        ]
        try:
            programs.run(
                "pg_dump",
                ["--format=custom", "--no-owner", f"--snapshot={snapshot_id}", f"--file={data / PG_DUMP}"],
                env=libpq_env(url),
                timeout=DUMP_TIMEOUT_S,
            )
        except programs.ProgramError as error:
            raise BackupError(f"pg_dump thất bại: {error}") from error
    return "postgresql", objects


def _copy_objects(
    store: Path, dest_store: Path, objects: list[tuple[str, int]], result: BackupResult, progress: Progress
) -> None:
    for done, (sha, size) in enumerate(objects, start=1):
        target = blob_path(dest_store, sha)
        if target.exists() and target.stat().st_size == size:
            result.objects_reused += 1
        else:
            source = blob_path(store, sha)
            if not source.exists():
                raise BackupError(f"Thiếu bản gốc {sha} trong kho ({source}). Chạy `archive verify`.")
            copy_verified(source, target, sha, size, dest_store / ".incoming")
            result.objects_copied += 1
            result.bytes_copied += size
        if done % 500 == 0:
            progress(f"bản gốc / originals: {done}/{len(objects)}")


def backup(
    archive: Archive, dest: Path, *, keep: int | None = None, with_index: bool = False, progress: Progress | None = None
) -> BackupResult:
    """Write a new snapshot of ``archive`` into ``dest``; keep the last ``keep`` snapshots."""
    progress = progress or (lambda _message: None)
    dest = Path(dest).resolve()
    if keep is not None and keep < 1:
        raise BackupError("--keep phải từ 1 trở lên")
    settings = archive.settings
    if dest == settings.home or settings.home in dest.parents:
        raise BackupError("Nơi sao lưu phải nằm ngoài thư mục dữ liệu (ARCHIVE_HOME)")
    with locked(dest):
        snapshots = dest / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        for stale in snapshots.glob(".partial-*"):
            shutil.rmtree(stale, ignore_errors=True)  # a backup killed before it finished
        name = snapshot_name(snapshots)
        work = snapshots / f".partial-{name}"
        work.mkdir()
        try:
            progress("cơ sở dữ liệu / database")
            kind, objects = _dump_database(archive, work)
            result = BackupResult(snapshot=name, path=snapshots / name, database=kind, objects=len(objects))
            write_objects(work / OBJECTS_LIST, objects)
            if with_index:
                result.with_index = _copy_index(archive, work)
            if settings.reports_dir.is_dir():
                shutil.copytree(settings.reports_dir, work / REPORTS)
            progress(f"bản gốc / originals: {len(objects)}")
            _copy_objects(settings.store_dir, dest / STORE, objects, result, progress)
            progress("manifest")
            bagit.make_bag(
                str(work),
                bag_info={
                    "Source-Organization": "Kho văn bản đơn vị hành chính cũ",
                    "External-Description": f"Bản sao lưu {settings.home}",
                    "Snapshot-Name": name,
                    "Database-Kind": kind,
                    "Alembic-Revision": alembic_revision(archive),
                    "Store-Objects": str(len(objects)),
                    "Store-Bytes": str(sum(size for _, size in objects)),
                    "With-Index": "yes" if result.with_index else "no",
                },
                checksums=["sha256"],
            )
            os.rename(work, result.path)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        if keep is not None:
            result.pruned_snapshots, result.pruned_objects = prune(dest, keep)
    return result


def _copy_index(archive: Archive, work: Path) -> bool:
    """Copy an embedded engine's index: the SQLite file through SQLite's backup API, Tantivy's last
    commit (``TantivyEngine.copy_to``), both while ingest goes on; a cluster keeps its own index
    (restore rebuilds it)."""
    settings = archive.settings
    if settings.index_engine == "sqlite":
        source = settings.index_dir / "fts.sqlite"
        if not source.exists():
            return False
        (work / INDEX_COPY).parent.mkdir(parents=True, exist_ok=True)
        sqlite_copy(source, work / INDEX_COPY)
        return True
    engine = archive.engine
    if isinstance(engine, TantivyEngine):
        (work / TANTIVY_COPY).parent.mkdir(parents=True, exist_ok=True)
        engine.copy_to(work / TANTIVY_COPY)
        return True
    return False


def prune(dest: Path, keep: int) -> tuple[list[str], int]:
    """Delete all but the newest ``keep`` snapshots, then the originals no kept snapshot names."""
    dest = Path(dest)
    names = list_snapshots(dest)
    dropped = names[:-keep] if len(names) > keep else []
    for name in dropped:
        shutil.rmtree(dest / SNAPSHOTS / name)
    needed: set[str] = set()
    for name in names[len(dropped) :]:
        needed.update(sha for sha, _ in read_objects(dest / SNAPSHOTS / name))
    removed = 0
    store = dest / STORE
    if store.is_dir():
        for path in store.glob("??/??/*"):
            if path.name not in needed:
                path.unlink()
                removed += 1
    return dropped, removed
