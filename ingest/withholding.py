"""Withhold a document after ingest, or release it: the database first, then the search engine.

The database flag is what every route checks (``services.scope.may_read``,
search hits are dropped when the database says withheld), so a withheld
document is gone from every route the moment the transaction commits, and
from the engine a moment later; if the engine cannot be reached, the flag
still hides it and ``archive verify`` names it.  Released documents are
indexed again at once when their text is ready; files never extracted
(the document was withheld at ingest) wait for ``archive worker`` or
``archive release``, which extracts them.  Callers audit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile

from . import claims
from .indexing import index_ready
from .secrecy import RELEASE_KEY, mark_withheld
from .worker import ExtractionLoop


class NoSuchDocument(LookupError):
    pass


@dataclass(frozen=True)
class Change:
    document_id: int
    unit_code: str
    changed: bool  # False: it already was in that state
    previous_reason: str = ""
    pending_files: int = 0  # release: files still to extract before it is searchable


def withhold(archive: Archive, document_id: int, reason: str, *, by: str = "") -> Change:
    """Withhold ``document_id`` now: out of every route and out of the engine."""
    with archive.db.write_transaction() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NoSuchDocument(document_id)
        change = Change(document.id, document.unit_code, not document.withheld, document.withheld_reason or "")
        if change.changed:
            mark_withheld(document, reason if not by else f"{reason} ({by})")
    archive.engine.delete([document_id])
    return change


def release(archive: Archive, document_id: int, reason: str, *, by: str = "") -> Change:
    """Release ``document_id``: searchable again (now if its text is ready)."""
    with archive.db.write_transaction() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NoSuchDocument(document_id)
        previous = document.withheld_reason or document.confidentiality or ""
        changed = bool(document.withheld)
        if changed:
            document.withheld = False
            document.withheld_reason = ""
            document.indexed_at = None
            document.extra = {
                **(document.extra or {}),
                RELEASE_KEY: {
                    "by": by,
                    "at": utcnow().isoformat(timespec="seconds"),
                    "reason": reason,
                    "was": previous,
                },
            }
        pending = session.scalar(
            select(DocumentFile.id)
            .where(DocumentFile.document_id == document_id, DocumentFile.status == "pending")
            .limit(1)
        )
        package_id, unit = document.package_id, document.unit_code
    index_ready(archive, package_id)
    return Change(document_id, unit, changed, previous, 1 if pending is not None else 0)


def extract_released(archive: Archive, document_id: int) -> None:
    """Read the files of a released document that was withheld at ingest (never read then), and index it."""
    with archive.db.session() as session:
        document = session.get(Document, document_id)
        if document is None or document.withheld:
            return
        package_id = document.package_id
    ExtractionLoop(archive, processes=1, package_id=package_id).run()
    claims.finalize_documents_without_pending(archive.db, package_id)
    index_ready(archive, package_id)
