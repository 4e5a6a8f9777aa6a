"""Turn manifest rows and the files no row references into ``Document``s with their ``DocumentFile``s.

Rows are registered in batches of ``ROW_BATCH`` per write transaction.  A key
already in the archive from another package is a duplicate; a second run of
the same package at the same time finds the documents the first inserted
(one document per key).
"""

from __future__ import annotations

import posixpath
from contextlib import nullcontext

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive_core.db.models import Document, DocumentFile

from ..manifests import Row
from ..secrecy import mark_withheld
from .documents import document_from_row
from .edxml_documents import apply_edxml_fields, edxml_files
from .run import IngestRun
from .secrecy_checks import held_reason, match_payload_path, raise_secrecy, withdraw_raised

ROW_BATCH = 200
UNLISTED_FLAG = "Tệp không có trong bảng kê: tạo văn bản riêng, siêu dữ liệu đọc từ nội dung"


def register_rows(run: IngestRun) -> None:
    """Each valid manifest row becomes a document (or a duplicate of one already in the archive)."""
    manifest = run.contents.manifest
    if manifest is None:
        return
    seen: dict[str, int] = {}
    rows = manifest.rows
    for start in range(0, len(rows), ROW_BATCH):
        with run.archive.db.write_transaction() as session:
            batch = rows[start : start + ROW_BATCH]
            known = _existing_documents(run, session, [row.key for row in batch if row.key])
            for row in batch:
                _register_row(run, session, row, seen, known)
        withdraw_raised(run)
        run.progress("rows", min(start + ROW_BATCH, len(rows)), len(rows))
    if not rows:
        run.progress("rows", 0, 0)


def register_unreferenced_files(run: IngestRun) -> None:
    """Each file no row references becomes a document of its own (flagged), unless a duplicate."""
    state = run.state
    unit = run.contents.unit_code
    flags = [UNLISTED_FLAG] if run.contents.manifest is not None else []
    with run.archive.db.write_transaction() as session:
        held = held_reason(run, session)
        for rel, info in state.files.items():
            if rel in state.referenced or info.refused:
                continue
            message = state.edxml.get(rel)
            document_id = message.fields.get("ma_van_ban") if message else ""
            key = f"edxml:{document_id}" if document_id else f"tep:{rel}"
            mine = _existing_document(run, session, key)
            if mine is not None:
                if mine.package_id != run.package_id:
                    state.file_duplicates[rel] = f"Đã có trong kho (văn bản #{mine.id})"
                continue
            twin = session.scalar(
                select(Document.id)
                .join(DocumentFile)
                .where(Document.unit_code == unit, DocumentFile.blob_sha256 == info.sha256)
                .limit(1)
            )
            if twin is not None:
                state.file_duplicates[rel] = f"Trùng nội dung (SHA-256) với văn bản #{twin} của cùng đơn vị"
                continue
            document = Document(
                package_id=run.package_id,
                unit_code=unit,
                ma_van_ban=key,
                origin="edxml" if message else "file",
                flags=list(flags),
                extra={},
                field_sources={},
            )
            if message:
                apply_edxml_fields(run, document, rel)
                files = edxml_files(run, document, 0, rel)
            else:
                files = [
                    DocumentFile(
                        document=document,
                        position=0,
                        path_in_package=rel,
                        filename=posixpath.basename(rel),
                        blob_sha256=info.sha256,
                        media_type=info.media_type,
                        status="pending",
                    )
                ]
            if held and not document.withheld:
                mark_withheld(document, held)
            if not _insert_document(run, session, document, files):
                mine = _existing_document(run, session, key)
                if mine is not None and mine.package_id != run.package_id:
                    state.file_duplicates[rel] = f"Đã có trong kho (văn bản #{mine.id})"


def _register_row(run: IngestRun, session: Session, row: Row, seen: dict[str, int], known: dict[str, Document]) -> None:
    """``known``: the documents already in the archive under the batch's keys (read in one query)."""
    state = run.state
    item_key = row.key or f"dòng {row.line}"
    if "__invalid__" in row.extra:
        state.row_refusals[f"dòng {row.line}"] = "Dòng bảng kê không đọc được (JSON hỏng)"
        return
    if not row.key:
        state.row_refusals[item_key] = "Thiếu ma_van_ban (mã văn bản) bắt buộc"
        return
    if row.key in seen:
        state.row_refusals[f"{row.key} (dòng {row.line})"] = f"ma_van_ban trùng với dòng {seen[row.key]} trong cùng gói"
        return
    seen[row.key] = row.line
    for rel in row.attachments:  # only rows that own or duplicate a document claim their files
        state.referenced.add(safe_rel(run, rel) or rel)
    existing = known.get(row.key)
    if existing is None:
        document = document_from_row(row, package_id=run.package_id, unit_code=run.contents.unit_code)
        position = 0
        files: list[DocumentFile] = []
        for rel in row.attachments:
            safe = safe_rel(run, rel)
            if safe in state.edxml:
                apply_edxml_fields(run, document, safe)
                more = edxml_files(run, document, position, safe)
            else:
                more = [_file_for(run, document, position, rel)]
            files += more
            position += len(more)
        if _insert_document(run, session, document, files, batched=True):
            return
        existing = _existing_document(run, session, row.key)  # another run inserted it first
        if existing is None:
            raise RuntimeError(f"document {row.key!r} neither inserted nor found")  # cannot happen: the key clashed
    raise_secrecy(run, existing, row)
    if existing.package_id != run.package_id and row.key not in state.row_duplicates:
        state.row_duplicates[row.key] = f"Đã có trong kho (văn bản #{existing.id}, gói #{existing.package_id})"
        for rel in row.attachments:
            state.file_duplicates.setdefault(safe_rel(run, rel) or rel, "Thuộc văn bản đã có trong kho")


def _existing_document(run: IngestRun, session: Session, key: str) -> Document | None:
    return session.scalar(
        select(Document).where(Document.unit_code == run.contents.unit_code, Document.ma_van_ban == key)
    )


def _existing_documents(run: IngestRun, session: Session, keys: list[str]) -> dict[str, Document]:
    if not keys:
        return {}
    found = session.scalars(
        select(Document).where(Document.unit_code == run.contents.unit_code, Document.ma_van_ban.in_(keys))
    )
    return {document.ma_van_ban: document for document in found}


def _insert_document(
    run: IngestRun, session: Session, document: Document, files: list[DocumentFile], *, batched: bool = False
) -> bool:
    """Insert a new document with its files; False if another run inserted the same key meanwhile.

    On PostgreSQL the insert runs in a savepoint and a unique-key violation
    rolls back only this document; on SQLite the batch's ``BEGIN IMMEDIATE``
    already excludes every other writer, so the key check above is final, and
    with ``batched`` (rows, whose keys were all looked up first) the batch's
    documents are written together when it commits."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and batched:
        session.add(document)
        session.add_all(files)
        run.state.created += 1
        return True
    try:
        with nullcontext() if sqlite else session.begin_nested():
            session.add(document)
            session.add_all(files)
            session.flush()
    except IntegrityError:
        if sqlite:
            raise
        return False
    run.state.created += 1
    return True


def safe_rel(run: IngestRun, rel: str) -> str | None:
    """The payload-relative path of an attachment, or None if it points outside the package."""
    rel = rel.replace("\\", "/").strip()
    if rel.startswith("data/") and rel not in run.state.files:
        rel = rel[5:]
    if not rel or rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        return None
    normal = posixpath.normpath(rel)
    if normal.startswith("..") or "/../" in f"/{normal}/":
        return None
    return match_payload_path(run, normal)


def _file_for(run: IngestRun, document: Document, position: int, rel: str) -> DocumentFile:
    """The file a row names: stored, missing from the package, refused, or pointing outside it."""
    safe = safe_rel(run, rel)
    name = posixpath.basename(rel.replace("\\", "/")) or rel
    if safe is None:
        document.flags = [*document.flags, f"Đường dẫn tệp đính kèm không an toàn, bị từ chối: {rel}"]
        return DocumentFile(
            document=document,
            position=position,
            path_in_package=rel,
            filename=name,
            status="refused",
            reason="Đường dẫn ra ngoài gói (.. hoặc tuyệt đối)",
        )
    info = run.state.files.get(safe)
    if info is None:
        document.flags = [*document.flags, f"Thiếu tệp đính kèm: {rel}"]
        return DocumentFile(
            document=document,
            position=position,
            path_in_package=safe,
            filename=name,
            status="missing",
            reason="Tệp được bảng kê nhắc đến nhưng không có trong gói",
        )
    if info.refused:
        document.flags = [*document.flags, f"Tệp đính kèm bị từ chối: {rel}: {info.refused}"]
        return DocumentFile(
            document=document,
            position=position,
            path_in_package=safe,
            filename=name,
            status="refused",
            reason=info.refused,
        )
    return DocumentFile(
        document=document,
        position=position,
        path_in_package=safe,
        filename=name,
        blob_sha256=info.sha256,
        media_type=info.media_type,
        status="pending",
    )
