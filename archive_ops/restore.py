"""Restores of a backup snapshot into an empty data home, every checksum verified."""

from __future__ import annotations

import shutil
from pathlib import Path

import bagit
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import selectinload

from archive_core import programs
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile
from archive_core.settings import Settings
from archive_core.store import blob_path
from indexes.tantivy_engine import TantivyEngine
from ingest.indexing import index_document

from .snapshots import (
    INDEX_BATCH,
    INDEX_COPY,
    PG_DUMP,
    REPORTS,
    SNAPSHOTS,
    SQLITE_COPY,
    STORE,
    TANTIVY_COPY,
    BackupError,
    Progress,
    RestoreResult,
    copy_verified,
    is_sqlite,
    libpq_env,
    list_snapshots,
    read_objects,
    sqlite_path,
)

RESTORE_TIMEOUT_S = 12 * 3600  # pg_restore of a province's database: hours at most


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
    if is_sqlite(url):
        if sqlite_path(url).exists():
            raise BackupError(f"Cơ sở dữ liệu {sqlite_path(url)} đã tồn tại: chỉ khôi phục vào nơi trống")
        return

    engine = create_engine(url)
    try:
        if inspect(engine).get_table_names():
            raise BackupError("Cơ sở dữ liệu PostgreSQL đích đã có bảng: chỉ khôi phục vào cơ sở dữ liệu trống")
    finally:
        engine.dispose()


def restore(
    source: Path, settings: Settings, *, snapshot: str | None = None, progress: Progress | None = None
) -> RestoreResult:
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
            copy_verified(source_path, blob_path(settings.store_dir, sha), sha, size, settings.store_dir / ".incoming")
        except BackupError as error:
            problems.append(str(error))
        result.bytes += size
        if done % 500 == 0:
            progress(f"bản gốc / originals: {done}/{len(objects)}")
    if problems:
        raise BackupError(
            f"{len(problems)} bản gốc hỏng hoặc thiếu trong bản sao lưu (thư mục dữ liệu chưa dùng "
            f"được, hãy làm trống rồi chọn bản sao lưu khác): " + "; ".join(problems[:10])
        )
    progress("cơ sở dữ liệu / database")
    _restore_database(settings, data)
    if (data / REPORTS).is_dir():
        shutil.copytree(data / REPORTS, settings.reports_dir, dirs_exist_ok=True)
    has_index = _restore_index(settings, data)
    archive = Archive.open(settings)  # runs the migrations the snapshot predates
    try:
        progress("chỉ mục / index")
        result.index = "restored" if has_index else "rebuilt"
        result.documents_indexed = sync_index(archive, rebuild=not has_index)
    finally:
        archive.close()
    return result


def _restore_index(settings: Settings, data: Path) -> bool:
    """Put the snapshot's index copy in place if it is one the configured engine reads."""
    if settings.index_engine == "sqlite" and (data / INDEX_COPY).is_file():
        shutil.copyfile(data / INDEX_COPY, settings.index_dir / "fts.sqlite")
        return True
    if settings.index_engine == "tantivy" and (data / TANTIVY_COPY / "meta.json").is_file():
        TantivyEngine.install_copy(settings.index_dir / "tantivy", data / TANTIVY_COPY)
        return True
    return False


def _restore_database(settings: Settings, data: Path) -> None:
    url = settings.database_url
    if (data / SQLITE_COPY).is_file():
        if not is_sqlite(url):
            raise BackupError("Bản sao lưu là SQLite nhưng ARCHIVE_DATABASE_URL không phải SQLite")
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / SQLITE_COPY, target)
        return
    if not (data / PG_DUMP).is_file():
        raise BackupError("Bản sao lưu không có cơ sở dữ liệu")
    if not url.startswith("postgresql"):
        raise BackupError("Bản sao lưu là PostgreSQL nhưng ARCHIVE_DATABASE_URL không phải PostgreSQL")
    try:
        programs.run(
            "pg_restore",
            ["--no-owner", "--exit-on-error", f"--dbname={make_url(url).database}", str(data / PG_DUMP)],
            env=libpq_env(url),
            timeout=RESTORE_TIMEOUT_S,
        )
    except programs.ProgramError as error:
        raise BackupError(f"pg_restore thất bại: {error}") from error


def sync_index(archive: Archive, *, rebuild: bool = False) -> int:
    """Make the index hold exactly the documents the database says are indexed; return how many were (re)indexed.

    ``rebuild`` clears the index first.  Otherwise only the differences are fixed: a
    snapshot's index copy may be a moment apart from its database copy.
    """

    engine = archive.engine
    if rebuild:
        engine.clear()
    with archive.db.session() as session:
        wanted = set(
            session.scalars(select(Document.id).where(Document.indexed_at.is_not(None), Document.withheld.is_(False)))
        )
    present = engine.indexed_ids()
    extra = sorted(present - wanted)
    if extra:
        engine.delete(extra)
    missing = sorted(wanted - present)
    for start in range(0, len(missing), INDEX_BATCH):
        batch = missing[start : start + INDEX_BATCH]
        with archive.db.session() as session:
            documents = session.scalars(
                select(Document)
                .where(Document.id.in_(batch))
                .options(selectinload(Document.files).selectinload(DocumentFile.pages))
            ).all()
            engine.index([index_document(session, d) for d in documents])
    return len(missing)
