"""Extraction work shared by many processes (on one machine or many) through the database.

A file waiting for text (``DocumentFile.status == 'pending'``) is *claimed* by
one worker for a lease: ``claimed_by`` names the worker (``host:pid:random``),
``lease_until`` says until when the claim holds.  A worker renews its leases
while it works; a worker that died stops renewing, and once its lease has
expired any other worker may claim the file again.  A dead process on the same
machine is noticed at once (its pid is gone), so re-running a killed
``archive ingest`` does not wait for the lease.

* Claiming is one write transaction: PostgreSQL ``SELECT … FOR UPDATE SKIP
  LOCKED`` then ``UPDATE``; on SQLite ``BEGIN IMMEDIATE`` serialises claimers.
* Saving is a compare-and-set on ``claimed_by``: a worker that lost its lease
  cannot overwrite the work of the one that took the file over.
* The document is locked while a file of it is saved, and finalised (metadata
  from its text, ``text_ready``) in the same transaction as its last file, so
  exactly once.
* ``claimed_by`` stays on an extracted file: it records who extracted it.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from archive_core.clock import utcnow
from archive_core.db.models import Document, DocumentFile, Page
from archive_core.db.session import Database
from archive_core.processes import process_alive
from archive_core.store import BlobStore

from .extract import Extraction
from .finalize import TEXT_FIELDS, finalize_document, first_original
from .signature_checks import record_signature_free

LEASE_SECONDS = 600
_TEXT_FIELD_COLUMNS = [getattr(Document, name) for name in TEXT_FIELDS]


def _page_row(page: Any, file_id: int) -> dict[str, Any]:
    """The Page row (for one bulk insert) with the text, method, confidence and word boxes of an extracted
    page, or of a stored twin's."""
    return {
        "file_id": file_id,
        "number": page.number,
        "text": page.text,
        "method": page.method,
        "ocr_confidence": page.ocr_confidence,
        "word_boxes": page.word_boxes,
    }


def new_worker_id(name: str = "") -> str:
    """``host:pid:random``: unique among live workers, readable in the database.

    ``name`` (``ARCHIVE_WORKER_NAME``) replaces the host name, e.g. for containers
    that share one; only claims under this machine's own name are checked for a
    dead pid, the others wait for their lease."""
    return f"{name or socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Claim:
    file_id: int
    document_id: int
    sha256: str
    metadata: bool = True  # its document lacks a field its text could give (``finalize.has_text_fields``)


@dataclass(frozen=True)
class Saved:
    """What happened to one claimed file."""

    saved: bool  # False: the claim was lost (another worker took the file over)
    status: str = ""  # extracted | refused
    pages: int = 0
    copied: bool = False  # pages copied from a file with the same bytes (no extraction)
    finalized: bool = False  # this save finished its document


Result = Extraction | str  # a refusal comes back as its reason


# -- claiming ---------------------------------------------------------------------------------
def _pending_filter(query, package_id: int | None):
    query = query.join(Document, Document.id == DocumentFile.document_id).where(
        DocumentFile.status == "pending", Document.withheld.is_(False)
    )
    if package_id is not None:
        query = query.where(Document.package_id == package_id)
    return query


def claim_files(
    db: Database, worker: str, limit: int, *, lease_seconds: float = LEASE_SECONDS, package_id: int | None = None
) -> list[Claim]:
    """Claim up to ``limit`` pending files whose lease is free or expired (of one package, or any)."""
    if limit <= 0:
        return []
    release_dead_local_claims(db, worker.rsplit(":", 2)[0])
    now = utcnow()
    with db.write_transaction() as session:
        query = _pending_filter(
            select(DocumentFile.id, DocumentFile.document_id, DocumentFile.blob_sha256, *_TEXT_FIELD_COLUMNS),
            package_id,
        ).where(or_(DocumentFile.claimed_by == "", DocumentFile.lease_until.is_(None), DocumentFile.lease_until < now))
        rows = session.execute(
            query.order_by(DocumentFile.id).limit(limit).with_for_update(skip_locked=True, of=DocumentFile)
        ).all()
        if not rows:
            return []
        session.execute(
            update(DocumentFile)
            .where(DocumentFile.id.in_([r[0] for r in rows]))
            .values(claimed_by=worker, lease_until=now + timedelta(seconds=lease_seconds))
        )
    return [Claim(file_id=r[0], document_id=r[1], sha256=r[2], metadata=not all(r[3:])) for r in rows]


def renew(db: Database, worker: str, lease_seconds: float = LEASE_SECONDS) -> int:
    """Push the lease of every file this worker still holds; returns how many it holds."""
    with db.write_transaction() as session:
        return cast(
            CursorResult,
            session.execute(
                update(DocumentFile)
                .where(DocumentFile.claimed_by == worker, DocumentFile.status == "pending")
                .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
            ),
        ).rowcount


def release(db: Database, worker: str, file_ids: list[int] | None = None) -> int:
    """Give claims back (a worker stopping): the files are free for anyone at once."""
    with db.write_transaction() as session:
        statement = update(DocumentFile).where(DocumentFile.claimed_by == worker, DocumentFile.status == "pending")
        if file_ids is not None:
            statement = statement.where(DocumentFile.id.in_(file_ids))
        return cast(CursorResult, session.execute(statement.values(claimed_by="", lease_until=None))).rowcount


def release_dead_local_claims(db: Database, host: str = "") -> int:
    """Free the claims of workers of this machine whose process is gone (killed, crashed)."""
    host = host or socket.gethostname()
    with db.session() as session:
        holders = session.scalars(
            select(DocumentFile.claimed_by)
            .where(
                DocumentFile.status == "pending", DocumentFile.claimed_by != "", DocumentFile.lease_until >= utcnow()
            )
            .distinct()
        ).all()
    dead = []
    for holder in holders:
        parts = holder.rsplit(":", 2)
        if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not process_alive(int(parts[1])):
            dead.append(holder)
    if not dead:
        return 0
    with db.write_transaction() as session:
        return cast(
            CursorResult,
            session.execute(
                update(DocumentFile)
                .where(DocumentFile.claimed_by.in_(dead), DocumentFile.status == "pending")
                .values(claimed_by="", lease_until=None)
            ),
        ).rowcount


class Heartbeat:
    """Renews this worker's leases every third of the lease, in a thread, while work goes on."""

    def __init__(self, db: Database, worker: str, lease_seconds: float = LEASE_SECONDS):
        self.db, self.worker, self.lease_seconds = db, worker, lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(max(self.lease_seconds / 3, 0.2)):
            try:
                renew(self.db, self.worker, self.lease_seconds)
            except Exception:
                pass

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


# -- saving -------------------------------------------------------------------------------------
def _lock_document(session: Session, document_id: int) -> Document | None:
    return session.scalar(select(Document).where(Document.id == document_id).with_for_update())


def _held_file(session: Session, worker: str, file_id: int) -> DocumentFile | None:
    """The file, if this worker still holds its claim (the compare of the compare-and-set)."""
    return session.scalar(
        select(DocumentFile)
        .where(DocumentFile.id == file_id, DocumentFile.claimed_by == worker, DocumentFile.status == "pending")
        .with_for_update()
    )


def save_extraction(
    db: Database, worker: str, claim: Claim, result: Result, *, store: BlobStore | None = None
) -> Saved:
    """Store the pages (or the refusal) of a claimed file, only if the claim still holds."""
    return save_extractions(db, worker, [(claim, result)], store=store)[0]


def save_extractions(
    db: Database,
    worker: str,
    results: list[tuple[Claim, Result]],
    *,
    store: BlobStore | None = None,
    trust_fingerprint: str | None = None,
) -> list[Saved]:
    """``save_extraction`` for several files in one write transaction (in the order given).

    Documents are locked in id order, so two workers saving files of the same
    documents at once wait for each other instead of deadlocking.  The batch's
    documents (with their files), its held files and their old pages are read
    and cleared with one statement each, every page is written with one INSERT,
    and the pages are read back with one query for finalising.  With
    ``trust_fingerprint``, the PDFs found surely unsigned while extracted get
    their signature verdict in the same transaction (``record_signature_free``)."""
    saved: dict[int, Saved] = {}
    with db.write_transaction() as session:
        documents = {
            d.id: d
            for d in session.scalars(
                select(Document)
                .where(Document.id.in_(sorted({claim.document_id for claim, _ in results})))
                .order_by(Document.id)
                .with_for_update()
                .options(selectinload(Document.files))
            )
        }
        held = {
            f.id: f
            for f in session.scalars(
                select(DocumentFile)
                .where(
                    DocumentFile.id.in_([claim.file_id for claim, _ in results]),
                    DocumentFile.claimed_by == worker,
                    DocumentFile.status == "pending",
                )
                .with_for_update()
            )
        }
        if held:  # a file extracted again (a lost lease, a re-run) starts from no pages
            session.execute(
                delete(Page).where(Page.file_id.in_(list(held))), execution_options={"synchronize_session": False}
            )
            for held_file in held.values():
                set_committed_value(held_file, "pages", [])
        done: list[tuple[int, Document, DocumentFile, Result]] = []  # in document order
        rows: list[dict[str, Any]] = []
        for index, (claim, result) in sorted(enumerate(results), key=lambda item: (item[1][0].document_id, item[0])):
            document, file = documents.get(claim.document_id), held.get(claim.file_id)
            if document is None or file is None:
                saved[index] = Saved(saved=False)
                continue
            rows.extend(_record_result(document, file, result))
            done.append((index, document, file, result))
        if rows:  # every page of the batch in one statement (not one ORM object and flush step per page)
            session.execute(insert(Page), rows)
        if trust_fingerprint is not None:
            unsigned = [f.blob_sha256 for _, _, f, r in done if isinstance(r, Extraction) and r.signature_free]
            record_signature_free(session, [sha for sha in unsigned if sha], trust_fingerprint)
        _load_pages(session, [file for _, _, file, _ in done])
        last = {document.id: index for index, document, _, _ in done}
        by_file = {file.id: result for _, _, file, result in done}
        for index, document, file, result in done:
            # a document is finalised with the last of its files in the batch (its others are saved already),
            # with the layout and metadata its first file's extraction read, when that file is in the batch
            first = by_file.get(document.files[0].id) if document.files else None
            read = first if isinstance(first, Extraction) else None
            saved[index] = Saved(
                saved=True,
                status=file.status,
                pages=0 if isinstance(result, str) else len(result.pages),
                finalized=last[document.id] == index
                and _finalize_if_last(
                    session,
                    document,
                    store,
                    read.first_page_layout if read is not None else None,
                    read.first_file_metadata if read is not None else None,
                ),
            )
    return [saved[index] for index in range(len(results))]


def _record_result(document: Document, file: DocumentFile, result: Result) -> list[dict[str, Any]]:
    """Mark one held file of the locked ``document`` extracted (or refused); the rows of its pages."""
    file.lease_until = None
    if isinstance(result, str):
        file.status, file.reason = "refused", result
        document.flags = [*document.flags, f"Không đọc được tệp {file.filename}: {result}"]
        return []
    file.status = "extracted"
    file.media_type = result.media_type
    file.page_count = len(result.pages)
    if result.warnings:
        file.reason = "; ".join(result.warnings)
    return [_page_row(page, file.id) for page in result.pages]


def _load_pages(session: Session, files: list[DocumentFile]) -> None:
    """The pages just written, on their files as finalising reads them (one query for the batch)."""
    if not files:
        return
    pages: dict[int, list[Page]] = {file.id: [] for file in files}
    query = select(Page).where(Page.file_id.in_(list(pages))).order_by(Page.file_id, Page.number)
    for page in session.scalars(query):
        pages[page.file_id].append(page)
    for file in files:
        set_committed_value(file, "pages", pages[file.id])


def extracted_twins(db: Database, claimed: list[Claim]) -> set[str]:
    """The SHA-256s among ``claimed`` whose bytes some other file already holds extracted (one query)."""
    shas = {claim.sha256 for claim in claimed if claim.sha256}
    if not shas:
        return set()
    with db.session() as session:
        return set(
            session.scalars(
                select(DocumentFile.blob_sha256)
                .where(DocumentFile.blob_sha256.in_(shas), DocumentFile.status.in_(("extracted", "refused")))
                .distinct()
            )
        )


def copy_known_extraction(db: Database, worker: str, claim: Claim, *, store: BlobStore | None = None) -> Saved | None:
    """Reuse the pages of a file with the same bytes already extracted (no OCR twice); None if there is none."""
    with db.session() as session:
        source_id = session.scalar(
            select(DocumentFile.id)
            .where(
                DocumentFile.blob_sha256 == claim.sha256,
                DocumentFile.status.in_(("extracted", "refused")),
                DocumentFile.id != claim.file_id,
            )
            .limit(1)
        )
    if source_id is None:
        return None
    with db.write_transaction() as session:
        document = _lock_document(session, claim.document_id)
        file = _held_file(session, worker, claim.file_id)
        if document is None or file is None:
            return Saved(saved=False)
        source = session.get(DocumentFile, source_id)
        if source is None:  # the extracted twin is gone (never: files are not deleted)
            return Saved(saved=False)
        session.execute(delete(Page).where(Page.file_id == file.id))
        file.status, file.reason, file.page_count = source.status, source.reason, source.page_count
        file.lease_until = None
        rows = [_page_row(page, file.id) for page in source.pages]
        if rows:
            session.execute(insert(Page), rows)
        session.flush()
        return Saved(
            saved=True,
            status=file.status,
            pages=source.page_count,
            copied=True,
            finalized=_finalize_if_last(session, document, store),
        )


# -- finishing documents --------------------------------------------------------------------------
def _finalize_if_last(
    session: Session,
    document: Document,
    store: BlobStore | None,
    first_page_layout: Any = None,
    first_file_metadata: dict | None = None,
) -> bool:
    """Finalise the (locked) document if no file of it is still pending and nobody did it yet."""
    if document.text_ready:
        return False
    # The document is locked, and a file's status changes only under its document's lock: the
    # files as this session holds them are as they stand.
    if any(f.status == "pending" for f in document.files):
        return False
    finalize_document(document, first_original(document, store), first_page_layout, first_file_metadata)
    return True


def finalize_documents_without_pending(
    db: Database, package_id: int | None = None, *, store: BlobStore | None = None
) -> int:
    """Finalise documents that wait for no file (all refused, missing, or text carried by edXML)."""
    with db.session() as session:
        query = (
            select(Document.id)
            .where(Document.text_ready.is_(False))
            .where(~Document.files.any(DocumentFile.status == "pending"))
        )
        if package_id is not None:
            query = query.where(Document.package_id == package_id)
        ids = list(session.scalars(query.order_by(Document.id)))
    done = 0
    for document_id in ids:
        with db.write_transaction() as session:
            document = _lock_document(session, document_id)
            if document is not None and _finalize_if_last(session, document, store):
                done += 1
    return done


def pending_count(db: Database, package_id: int | None = None) -> int:
    """Files still waiting for extraction (claimed or not), withheld documents aside."""
    with db.session() as session:
        return session.scalar(
            _pending_filter(select(func.count(DocumentFile.id)).select_from(DocumentFile), package_id)
        )
