"""What the search engine sees of a document, and indexing of the documents that are ready.

Used by ``archive ingest`` (its own package) and by ``archive worker`` (every
package).  Engines upsert by id, so two processes indexing the same document
at once leave one copy.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile
from indexes.base import IndexDocument

from . import secrecy
from .signature_checks import check_unchecked, document_status, verdicts

INDEX_BATCH = 100


def document_text(document: Document) -> str:
    return "\n\n".join(p.text for f in document.files for p in f.pages if p.text)


def index_document(session: Session, document: Document, known: dict | None = None) -> IndexDocument:
    """The engine's view of a document; the one place that decides what is searchable.

    ``known``: the signature verdicts of its files by SHA-256, when the caller read a batch's at once."""
    return IndexDocument(
        id=document.id,
        unit_code=document.unit_code,
        ma_van_ban=document.ma_van_ban,
        number=document.number or "",
        issued_date=document.issued_date,
        doc_type=document.doc_type or "",
        direction=document.direction or "",
        subject=document.subject or "",
        issuer=document.issuer or "",
        signer=document.signer or "",
        body=document_text(document),
        dossier=document.dossier or "",
        signature=document_status(session, document, known),
        restricted=bool(document.restricted),
    )


@contextmanager
def _indexing_turn(archive: Archive, wait: bool) -> Iterator[bool]:
    """This machine's turn at indexing the archive (a file lock beside the index, not in the scratch
    folder, which is emptied once a package is done): processes of one
    home that index at once would each index the same ready documents and queue on the engine's writer.
    Without ``wait``, False at once when another process is indexing (it takes ours too, or the next turn)."""
    path = archive.settings.index_dir / "indexing.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def index_ready(archive: Archive, package_id: int | None = None, *, batch: int = INDEX_BATCH, wait: bool = True) -> int:
    """Index every ready, not withheld, not yet indexed document (of one package, or all); return the count.

    ``wait=False``: return 0 at once if another process of this machine is indexing (a periodic turn)."""
    with _indexing_turn(archive, wait) as turn:
        return _index_ready(archive, package_id, batch) if turn else 0


def _index_ready(archive: Archive, package_id: int | None, batch: int) -> int:
    engine = archive.engine
    total = 0
    waiting = (Document.text_ready.is_(True), Document.withheld.is_(False), Document.indexed_at.is_(None))
    while True:
        with archive.db.session() as session:
            query = select(Document.id).where(*waiting).order_by(Document.id).limit(batch)
            if package_id is not None:
                query = query.where(Document.package_id == package_id)
            pending = list(session.scalars(query))
        if not pending:
            return total
        # Their PDFs' signature verdicts first: the index carries them ("có chữ ký số hợp lệ").
        check_unchecked(archive, document_ids=pending)
        with archive.db.session() as session:
            documents = list(
                session.scalars(
                    select(Document)
                    .where(Document.id.in_(pending), *waiting)
                    .order_by(Document.id)
                    .options(selectinload(Document.files).selectinload(DocumentFile.pages))
                )
            )
            # the last gate before the engine: a secrecy stamp in the text withholds (``secrecy``)
            stamped = {d.id: found for d in documents if (found := secrecy.from_document(d)) is not None}
            ready = [d for d in documents if d.id not in stamped]
            if ready:
                known = verdicts(session, (f.blob_sha256 for d in ready for f in d.files))
                engine.index([index_document(session, d, known) for d in ready])  # one call per batch
            ids = [d.id for d in ready]
        with archive.db.write_transaction() as session:
            now = utcnow()
            for document in session.scalars(select(Document).where(Document.id.in_([*ids, *stamped]))):
                if document.id in stamped:
                    secrecy.mark_withheld(document, stamped[document.id].reason, stamped[document.id].level)
                else:
                    document.indexed_at = now
        total += len(ids)
