"""Backups of a data home, and restores into an empty one.

Layout of a backup destination ``DEST``::

    DEST/store/ab/cd/<sha256>          originals, shared by every snapshot (copied once)
    DEST/snapshots/<UTC timestamp>/    one BagIt bag per backup:
        bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
        data/archive.sqlite | data/database.pgdump
        data/store-objects.txt         "<sha256> <size>" of every original the database names
        data/index/fts.sqlite          only with ``--with-index``
        data/reports/...               the ingest reports

The database is copied first, at one point in time (SQLite online backup API,
or ``pg_dump`` on the snapshot that also lists the originals); the originals
that copy names are then copied into the shared store, hashed on the way, so a
second backup copies only what is new.  Originals are only ever added to the
live store before their ``Blob`` row commits, so every original the copy names
is already there: the snapshot is consistent while ingest keeps running.

A snapshot directory only gets its final name when it is complete; the index is
optional (restore rebuilds it from the database when it is missing).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import bagit
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from archive_core.store import CHUNK, blob_path

from archive_core.context import Archive
from archive_core.settings import Settings
from sqlalchemy import create_engine
from sqlalchemy.orm import selectinload
from ingest.indexing import index_document
from archive_core.db.models import Document, DocumentFile

SNAPSHOTS = "snapshots"
STORE = "store"
SQLITE_COPY = "archive.sqlite"
PG_DUMP = "database.pgdump"
OBJECTS_LIST = "store-objects.txt"
INDEX_COPY = "index/fts.sqlite"
REPORTS = "reports"
INDEX_BATCH = 200

Progress = Callable[[str], None]


class BackupError(RuntimeError):
    """The backup or restore cannot be made; the message says why (Vietnamese)."""


@dataclass
class BackupResult:
    snapshot: str
    path: Path
    database: str  # sqlite | postgresql
    objects: int = 0
    objects_copied: int = 0
    bytes_copied: int = 0
    objects_reused: int = 0
    with_index: bool = False
    pruned_snapshots: list[str] = field(default_factory=list)
    pruned_objects: int = 0


@dataclass
class RestoreResult:
    snapshot: str
    objects: int = 0
    bytes: int = 0
    index: str = ""  # restored | rebuilt
    documents_indexed: int = 0


# -- helpers ----------------------------------------------------------------------------------
def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"Không sao lưu được cơ sở dữ liệu trong bộ nhớ: {url}")
    return Path(database)


def _libpq_env(url: str) -> dict[str, str]:
    """The connection of a PostgreSQL URL as libpq variables (keeps the password off the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                       ("PGPASSWORD", parsed.password), ("PGDATABASE", parsed.database)):
        if value not in (None, ""):
            env[key] = str(value)
    return env


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (the online backup API, in one step), as one plain file."""
    if not source.exists():
        raise BackupError(f"Không tìm thấy tệp cơ sở dữ liệu: {source}")
    src = sqlite3.connect(str(source), timeout=60)
    dst = sqlite3.connect(str(target))
    try:
        src.execute("PRAGMA busy_timeout=60000")
        src.backup(dst)  # pages=-1: one step under one read transaction, so one point in time
        dst.execute("PRAGMA journal_mode=DELETE")
        status = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if status != "ok":
        raise BackupError(f"Bản sao cơ sở dữ liệu không toàn vẹn ({source}): {status}")


def _copy_verified(source: Path, target: Path, sha256: str, size: int, tmp_dir: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary file, checking its SHA-256 and size on the way."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    copied = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                copied += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256 or copied != size:
            raise BackupError(
                f"Bản gốc {sha256} không khớp mã kiểm tra (SHA-256 {digest.hexdigest()}, {copied}/{size} byte): "
                f"{source}. Chạy `archive verify` và khôi phục tệp này trước.")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp_name, 0o444)
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def read_objects(snapshot: Path) -> list[tuple[str, int]]:
    objects = []
    with open(snapshot / "data" / OBJECTS_LIST, encoding="ascii") as handle:
        for line in handle:
            if line.strip():
                sha, size = line.split()
                objects.append((sha, int(size)))
    return objects


def _write_objects(path: Path, objects: list[tuple[str, int]]) -> None:
    with open(path, "w", encoding="ascii") as handle:
        for sha, size in objects:
            handle.write(f"{sha} {size}\n")


def list_snapshots(dest: Path) -> list[str]:
    """Complete snapshots, oldest first (names are UTC timestamps)."""
    root = Path(dest) / SNAPSHOTS
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


@contextmanager
def _locked(dest: Path) -> Iterator[None]:
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / ".backup.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"Một lần sao lưu khác đang ghi vào {dest}") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _snapshot_name(root: Path) -> str:
    base = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (root / name).exists():
        n += 1
        name = f"{base}-{n:02d}"
    return name


def _alembic_revision(archive: Archive) -> str:
    with archive.db.engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
        except Exception:  # noqa: BLE001 - an unmigrated database has no revision
            return ""


# -- backup -----------------------------------------------------------------------------------
def _dump_database(archive: Archive, data: Path) -> tuple[str, list[tuple[str, int]]]:
    """Copy the database into ``data``; return its kind and the originals that copy names."""
    url = archive.settings.database_url
    if _is_sqlite(url):
        copy = data / SQLITE_COPY
        sqlite_copy(sqlite_path(url), copy)
        connection = sqlite3.connect(str(copy))
        try:
            objects = [(sha, int(size)) for sha, size in
                       connection.execute("SELECT sha256, size FROM blob ORDER BY sha256")]
        finally:
            connection.close()
        return "sqlite", objects
    if not url.startswith("postgresql"):
        raise BackupError(f"Chưa hỗ trợ sao lưu cơ sở dữ liệu này: {make_url(url).drivername}")
    if shutil.which("pg_dump") is None:
        raise BackupError("Không tìm thấy lệnh pg_dump (cài gói postgresql-client)")
    # The blob list is read on the very snapshot pg_dump dumps, so the two agree exactly.
    with archive.db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            objects = [(sha, int(size)) for sha, size in
                       connection.execute(text("SELECT sha256, size FROM blob ORDER BY sha256"))]
            done = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot_id}",
                 f"--file={data / PG_DUMP}"],
                env=_libpq_env(url), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump thất bại: {done.stderr.strip()}")
    return "postgresql", objects


def _copy_objects(store: Path, dest_store: Path, objects: list[tuple[str, int]], result: BackupResult,
                  progress: Progress) -> None:
    for done, (sha, size) in enumerate(objects, start=1):
        target = blob_path(dest_store, sha)
        if target.exists() and target.stat().st_size == size:
            result.objects_reused += 1
        else:
            source = blob_path(store, sha)
            if not source.exists():
                raise BackupError(f"Thiếu bản gốc {sha} trong kho ({source}). Chạy `archive verify`.")
            _copy_verified(source, target, sha, size, dest_store / ".incoming")
            result.objects_copied += 1
            result.bytes_copied += size
        if done % 500 == 0:
            progress(f"bản gốc / originals: {done}/{len(objects)}")


def backup(archive: Archive, dest: Path, *, keep: int | None = None, with_index: bool = False,
           progress: Progress | None = None) -> BackupResult:
    """Write a new snapshot of ``archive`` into ``dest``; keep the last ``keep`` snapshots."""
    progress = progress or (lambda _message: None)
    dest = Path(dest).resolve()
    if keep is not None and keep < 1:
        raise BackupError("--keep phải từ 1 trở lên")
    settings = archive.settings
    if dest == settings.home or settings.home in dest.parents:
        raise BackupError("Nơi sao lưu phải nằm ngoài thư mục dữ liệu (ARCHIVE_HOME)")
    with _locked(dest):
        snapshots = dest / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        for stale in snapshots.glob(".partial-*"):
            shutil.rmtree(stale, ignore_errors=True)  # a backup killed before it finished
        name = _snapshot_name(snapshots)
        work = snapshots / f".partial-{name}"
        work.mkdir()
        try:
            progress("cơ sở dữ liệu / database")
            kind, objects = _dump_database(archive, work)
            result = BackupResult(snapshot=name, path=snapshots / name, database=kind, objects=len(objects))
            _write_objects(work / OBJECTS_LIST, objects)
            if with_index:
                result.with_index = _copy_index(archive, work)
            if settings.reports_dir.is_dir():
                shutil.copytree(settings.reports_dir, work / REPORTS)
            progress(f"bản gốc / originals: {len(objects)}")
            _copy_objects(settings.store_dir, dest / STORE, objects, result, progress)
            progress("manifest")
            bagit.make_bag(str(work), bag_info={
                "Source-Organization": "Kho văn bản đơn vị hành chính cũ",
                "External-Description": f"Bản sao lưu {settings.home}",
                "Snapshot-Name": name,
                "Database-Kind": kind,
                "Alembic-Revision": _alembic_revision(archive),
                "Store-Objects": str(len(objects)),
                "Store-Bytes": str(sum(size for _, size in objects)),
                "With-Index": "yes" if result.with_index else "no",
            }, checksums=["sha256"])
            os.rename(work, result.path)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        if keep is not None:
            result.pruned_snapshots, result.pruned_objects = prune(dest, keep)
    return result


def _copy_index(archive: Archive, work: Path) -> bool:
    """Copy the SQLite FTS index; other engines keep their own index (restore rebuilds it)."""
    if archive.settings.index_engine != "sqlite":
        return False
    source = archive.settings.index_dir / "fts.sqlite"
    if not source.exists():
        return False
    (work / INDEX_COPY).parent.mkdir(parents=True, exist_ok=True)
    sqlite_copy(source, work / INDEX_COPY)
    return True


def prune(dest: Path, keep: int) -> tuple[list[str], int]:
    """Delete all but the newest ``keep`` snapshots, then the originals no kept snapshot names."""
    dest = Path(dest)
    names = list_snapshots(dest)
    dropped = names[:-keep] if len(names) > keep else []
    for name in dropped:
        shutil.rmtree(dest / SNAPSHOTS / name)
    needed: set[str] = set()
    for name in names[len(dropped):]:
        needed.update(sha for sha, _ in read_objects(dest / SNAPSHOTS / name))
    removed = 0
    store = dest / STORE
    if store.is_dir():
        for path in store.glob("??/??/*"):
            if path.name not in needed:
                path.unlink()
                removed += 1
    return dropped, removed


# -- restore ----------------------------------------------------------------------------------
def find_snapshot(source: Path, name: str | None = None) -> tuple[Path, Path]:
    """The snapshot directory and the store of a backup ``source`` (a DEST, or one snapshot in it)."""
    source = Path(source).resolve()
    if (source / "bagit.txt").is_file() and source.parent.name == SNAPSHOTS:
        return source, source.parent.parent / STORE
    names = list_snapshots(source)
    if not names:
        raise BackupError(f"Không có bản sao lưu nào trong {source}")
    chosen = name or names[-1]
    if chosen not in names:
        raise BackupError(f"Không có bản sao lưu {chosen} (có: {', '.join(names)})")
    return source / SNAPSHOTS / chosen, source / STORE


def _check_empty_target(settings: Settings) -> None:
    home = settings.home
    if home.exists() and any(home.iterdir()):
        raise BackupError(f"Thư mục dữ liệu {home} không trống: chỉ khôi phục vào thư mục trống")
    url = settings.database_url
    if _is_sqlite(url):
        if sqlite_path(url).exists():
            raise BackupError(f"Cơ sở dữ liệu {sqlite_path(url)} đã tồn tại: chỉ khôi phục vào nơi trống")
        return

    engine = create_engine(url)
    try:
        if inspect(engine).get_table_names():
            raise BackupError("Cơ sở dữ liệu PostgreSQL đích đã có bảng: chỉ khôi phục vào cơ sở dữ liệu trống")
    finally:
        engine.dispose()


def restore(source: Path, settings: Settings, *, snapshot: str | None = None,
            progress: Progress | None = None) -> RestoreResult:
    """Restore a snapshot into the empty home of ``settings``, checking every checksum on the way."""
    progress = progress or (lambda _message: None)
    snap, store = find_snapshot(source, snapshot)
    _check_empty_target(settings)
    progress(f"kiểm tra manifest / checking manifest: {snap.name}")
    bag = bagit.Bag(str(snap))
    try:
        bag.validate(processes=max(1, settings.effective_workers()))
    except bagit.BagValidationError as error:
        details = "; ".join(str(d) for d in (error.details or [])[:10])
        raise BackupError(f"Bản sao lưu {snap.name} không khớp manifest: {error.message} {details}") from None
    data = snap / "data"
    objects = read_objects(snap)
    result = RestoreResult(snapshot=snap.name, objects=len(objects))
    settings.ensure_dirs()
    problems: list[str] = []
    for done, (sha, size) in enumerate(objects, start=1):
        source_path = blob_path(store, sha)
        if not source_path.exists():
            problems.append(f"thiếu bản gốc {sha}")
            continue
        try:
            _copy_verified(source_path, blob_path(settings.store_dir, sha), sha, size, settings.store_dir / ".incoming")
        except BackupError as error:
            problems.append(str(error))
        result.bytes += size
        if done % 500 == 0:
            progress(f"bản gốc / originals: {done}/{len(objects)}")
    if problems:
        raise BackupError(f"{len(problems)} bản gốc hỏng hoặc thiếu trong bản sao lưu (thư mục dữ liệu chưa dùng "
                          f"được, hãy làm trống rồi chọn bản sao lưu khác): " + "; ".join(problems[:10]))
    progress("cơ sở dữ liệu / database")
    _restore_database(settings, data)
    if (data / REPORTS).is_dir():
        shutil.copytree(data / REPORTS, settings.reports_dir, dirs_exist_ok=True)
    has_index = (data / INDEX_COPY).is_file() and settings.index_engine == "sqlite"
    if has_index:
        shutil.copyfile(data / INDEX_COPY, settings.index_dir / "fts.sqlite")
    archive = Archive.open(settings)  # runs the migrations the snapshot predates
    try:
        progress("chỉ mục / index")
        result.index = "restored" if has_index else "rebuilt"
        result.documents_indexed = sync_index(archive, rebuild=not has_index)
    finally:
        archive.close()
    return result


def _restore_database(settings: Settings, data: Path) -> None:
    url = settings.database_url
    if (data / SQLITE_COPY).is_file():
        if not _is_sqlite(url):
            raise BackupError("Bản sao lưu là SQLite nhưng ARCHIVE_DATABASE_URL không phải SQLite")
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / SQLITE_COPY, target)
        return
    if not (data / PG_DUMP).is_file():
        raise BackupError("Bản sao lưu không có cơ sở dữ liệu")
    if not url.startswith("postgresql"):
        raise BackupError("Bản sao lưu là PostgreSQL nhưng ARCHIVE_DATABASE_URL không phải PostgreSQL")
    done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={make_url(url).database}",
                           str(data / PG_DUMP)], env=_libpq_env(url), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore thất bại: {done.stderr.strip()}")


def sync_index(archive: Archive, *, rebuild: bool = False) -> int:
    """Make the index hold exactly the documents the database says are indexed; return how many were (re)indexed.

    ``rebuild`` clears the index first.  Otherwise only the differences are fixed: a
    snapshot's index copy may be a moment apart from its database copy.
    """



    engine = archive.engine
    if rebuild:
        engine.clear()
    with archive.db.session() as session:
        wanted = set(session.scalars(select(Document.id).where(Document.indexed_at.is_not(None),
                                                               Document.withheld.is_(False))))
    present = engine.indexed_ids()
    extra = sorted(present - wanted)
    if extra:
        engine.delete(extra)
    missing = sorted(wanted - present)
    for start in range(0, len(missing), INDEX_BATCH):
        batch = missing[start:start + INDEX_BATCH]
        with archive.db.session() as session:
            documents = session.scalars(
                select(Document).where(Document.id.in_(batch))
                .options(selectinload(Document.files).selectinload(DocumentFile.pages))
            ).all()
            engine.index([index_document(session, d) for d in documents])
    return len(missing)
