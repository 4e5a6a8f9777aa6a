"""What the search engine sees of a document, and indexing of the documents that are ready.

Used by ``archive ingest`` (its own package) and by ``archive worker`` (every
package).  Engines upsert by id, so two processes indexing the same document
at once leave one copy.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile
from indexes.base import IndexDocument

from . import secrecy
from .signature_checks import check_unchecked, document_status, verdicts

INDEX_BATCH = 100  # documents read from the database at a time
# Documents given to the engine in one call, so one writer and one commit (a Tantivy commit costs a
# segment flush and a wait for merges, ~0.2 s): a turn's documents are searchable together at its end.
# Bounded so the engine's writer (which a portal process withholding a document waits for) is held a
# few seconds at most, and a killed run has at most this many documents to index again.
COMMIT_EVERY = 2000


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
    """Turns of at most ``COMMIT_EVERY`` documents, each one ``engine.index`` call (one writer, one commit)."""
    total = 0
    while True:
        indexed: list[int] = []
        documents = _ready_documents(archive, package_id, batch, indexed)
        first = next(documents, None)
        if first is None:  # nothing to index: the engine's writer is not taken
            return total
        archive.engine.index(chain([first], documents))
        # Only now, once the engine has committed them, are they marked indexed: a run killed before
        # leaves them unmarked, and the next run indexes them again (engines upsert by id).
        with archive.db.write_transaction() as session:
            session.execute(
                update(Document)
                .where(Document.id.in_(indexed), Document.withheld.is_(False))
                .values(indexed_at=utcnow())
            )
        total += len(indexed)


def _ready_documents(
    archive: Archive, package_id: int | None, batch: int, indexed: list[int]
) -> Iterator[IndexDocument]:
    """The engine's view of ready documents, read ``batch`` at a time while the engine takes them in;
    appends each id given to ``indexed``.  A document whose text carries a secrecy stamp is withheld
    instead (``secrecy``: the last gate before the engine)."""
    waiting = (Document.text_ready.is_(True), Document.withheld.is_(False), Document.indexed_at.is_(None))
    after = 0
    while len(indexed) < COMMIT_EVERY:
        with archive.db.session() as session:
            query = select(Document.id).where(*waiting, Document.id > after).order_by(Document.id).limit(batch)
            if package_id is not None:
                query = query.where(Document.package_id == package_id)
            pending = list(session.scalars(query))
        if not pending:
            return
        after = pending[-1]
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
            stamped = {d.id: found for d in documents if (found := secrecy.from_document(d)) is not None}
            ready = [d for d in documents if d.id not in stamped]
            known = verdicts(session, (f.blob_sha256 for d in ready for f in d.files)) if ready else {}
            views = [index_document(session, d, known) for d in ready]
        if stamped:
            with archive.db.write_transaction() as session:
                for document in session.scalars(select(Document).where(Document.id.in_(list(stamped)))):
                    found = stamped[document.id]
                    secrecy.mark_withheld(document, found.reason, found.level)
        for view in views:
            indexed.append(view.id)
            yield view
