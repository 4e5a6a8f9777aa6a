"""The layout of a backup destination, shared by backup and restore.


Layout of a backup destination ``DEST``::

    DEST/store/ab/cd/<sha256>          originals, shared by every snapshot (copied once)
    DEST/snapshots/<UTC timestamp>/    one BagIt bag per backup:
        bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
        data/archive.sqlite | data/database.pgdump
        data/store-objects.txt         "<sha256> <size>" of every original the database names
        data/index/fts.sqlite          only with ``--with-index``, engine ``sqlite``
        data/index/tantivy/            only with ``--with-index``, engine ``tantivy``: one commit's files
        data/reports/...               the ingest reports

The database is copied first, at one point in time (SQLite online backup API,
or ``pg_dump`` on the snapshot that also lists the originals); the originals
that copy names are then copied into the shared store, hashed on the way, so a
second backup copies only what is new.  Originals are only ever added to the
live store before their ``Blob`` row commits, so every original the copy names
is already there: the snapshot is consistent while ingest keeps running.

A snapshot directory only gets its final name when it is complete; the index is
optional (restore rebuilds it from the database when it is missing, and brings a
copied one level with the database copy: the two are a moment apart).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from archive_core.context import Archive
from archive_core.store import CHUNK

SNAPSHOTS = "snapshots"
STORE = "store"
SQLITE_COPY = "archive.sqlite"
PG_DUMP = "database.pgdump"
OBJECTS_LIST = "store-objects.txt"
INDEX_COPY = "index/fts.sqlite"
TANTIVY_COPY = "index/tantivy"
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
def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"Không sao lưu được cơ sở dữ liệu trong bộ nhớ: {url}")
    return Path(database)


def libpq_env(url: str) -> dict[str, str]:
    """The connection of a PostgreSQL URL as libpq variables (keeps the password off the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
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


def copy_verified(source: Path, target: Path, sha256: str, size: int, tmp_dir: Path) -> None:
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
                f"{source}. Chạy `archive verify` và khôi phục tệp này trước."
            )
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


def write_objects(path: Path, objects: list[tuple[str, int]]) -> None:
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
def locked(dest: Path) -> Iterator[None]:
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


def snapshot_name(root: Path) -> str:
    """A new snapshot's name: its UTC time to the microsecond, so names sort as the snapshots were
    taken even when several are taken within one second (pruning keeps the newest by name)."""
    taken = [p.name.removeprefix(".partial-") for p in root.iterdir()] if root.is_dir() else []
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    while taken and name <= max(taken):  # a clock stepped back: still sort after every earlier one
        name = max(taken) + "1"
    return name


def alembic_revision(archive: Archive) -> str:
    with archive.db.engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
        except Exception:
            return ""
