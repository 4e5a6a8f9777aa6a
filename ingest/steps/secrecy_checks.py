"""Secrecy during registration (``ingest.secrecy`` decides; this applies it to the package's rows and files).

* A row already in the archive whose re-export raises its secrecy withholds the
  document at once: flagged in this batch's transaction, deleted from the engine
  right after it commits (``withdraw_raised``), named in the report and audited by
  the caller (``IngestRun.state.raised``).
* When a secret row's file cannot be found (missing, outside the package), or the
  row names no file at all, the file may sit in the package under another name:
  every file no row references is then held for review (withheld, with the
  reason), never published on its own.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from archive_core.db.models import Document, DocumentFile

from .. import secrecy
from ..attachments import PayloadPaths
from ..manifests import Row
from .run import IngestRun


def match_payload_path(run: IngestRun, rel: str) -> str:
    """The payload file ``rel`` names (exact, NFC, then without case), or ``rel`` itself if none."""
    if run.state.paths is None:
        run.state.paths = PayloadPaths(run.state.files)
    return run.state.paths.resolve(rel) or rel


def raise_secrecy(run: IngestRun, document: Document, row: Row) -> None:
    """A re-export's row says secret and the archive's document is not: withhold it now."""
    found = secrecy.from_manifest(row.values.get("do_mat", ""))
    if found is None or document.withheld:
        return
    reason = f"Bản xuất lại (gói #{run.package_id}) nâng độ mật: {found.reason}"
    secrecy.mark_withheld(document, reason, found.level)
    run.state.raised[row.key] = (document.id, reason)
    run.state.row_duplicates[row.key] = (
        f"Đã có trong kho (văn bản #{document.id}, gói #{document.package_id}); {reason}: đã rút khỏi tra cứu"
    )


def withdraw_raised(run: IngestRun) -> None:
    """After the batch committed: out of the engine too (the database flag already hides it everywhere)."""
    if run.state.raised:
        run.archive.engine.delete(sorted(i for i, _ in run.state.raised.values()))


def held_reason(run: IngestRun, session: Session) -> str:
    """Why this package's unreferenced files are held for review, or ``""``: a secret row lacks its file."""
    lacking = exists().where(
        DocumentFile.document_id == Document.id,
        DocumentFile.blob_sha256.is_(None),
        DocumentFile.status.in_(("missing", "refused")),
    )
    stored = exists().where(DocumentFile.document_id == Document.id, DocumentFile.blob_sha256.is_not(None))
    keys = list(
        session.scalars(
            select(Document.ma_van_ban)
            .where(
                Document.package_id == run.package_id,
                Document.origin == "manifest",
                Document.withheld.is_(True),
                or_(lacking, ~stored),
            )  # a named file not found, or no file at all
            .order_by(Document.ma_van_ban)
            .limit(5)
        )
    )
    if not keys:
        return ""
    return (
        f"Giữ lại chờ xem xét: văn bản mật {', '.join(keys)} thiếu tệp đính kèm (hoặc không ghi tệp), tệp "
        "không được bảng kê nhắc đến có thể là tệp đó"
    )
