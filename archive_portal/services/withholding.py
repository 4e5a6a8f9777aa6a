"""Withholding a document after ingest, and releasing it: who may, and what the archivist's pages show.

Archivists and admins withhold (``WITHHOLDERS``); only admins release
(``RELEASERS``).  Both go through ``ingest.withholding`` (database first, then
the engine) and are audited by the caller (web view or CLI), with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.context import Archive
from archive_core.db.models import Account, Document
from archive_core.errors import UserError
from ingest import withholding
from ingest.withholding import Change

from .roles import ADMIN, ARCHIVIST

WITHHOLDERS: tuple[str, ...] = (ARCHIVIST, ADMIN)
RELEASERS: tuple[str, ...] = (ADMIN,)
REASON_MAX = 500
MAX_ID = 2**63 - 1  # beyond what an id column holds: no such document (never an overflow)


@dataclass(frozen=True)
class WithholdingView:
    id: int
    unit_code: str
    ma_van_ban: str
    number: str
    subject: str
    package_id: int
    withheld: bool
    reason: str
    confidentiality: str
    released: dict | None


def document_view(session: Session, document_id: int) -> WithholdingView | None:
    document = session.get(Document, document_id) if 0 < document_id <= MAX_ID else None
    if document is None:
        return None
    return WithholdingView(
        document.id,
        document.unit_code,
        document.ma_van_ban,
        document.number or "",
        document.subject or "",
        document.package_id,
        bool(document.withheld),
        document.withheld_reason or "",
        document.confidentiality or "",
        (document.extra or {}).get(withholding.RELEASE_KEY),
    )


def withheld_documents(session: Session, limit: int = 1000) -> list[WithholdingView]:
    ids = session.scalars(select(Document.id).where(Document.withheld.is_(True)).order_by(Document.id).limit(limit))
    return [view for view in (document_view(session, i) for i in ids) if view is not None]


def _reason(reason: str) -> str:
    cleaned = " ".join((reason or "").split())
    if not cleaned:
        raise UserError("Cần ghi lý do.")
    return cleaned[:REASON_MAX]


def withhold(archive: Archive, document_id: int, reason: str, *, role: str, by: str) -> Change:
    """Withhold now (archivists and admins); raises UserError for a refusal the user can fix."""
    if role not in WITHHOLDERS:
        raise UserError("Chỉ lưu trữ viên hoặc quản trị viên được giữ lại văn bản.")
    try:
        if not 0 < document_id <= MAX_ID:
            raise withholding.NoSuchDocument(document_id)
        return withholding.withhold(archive, document_id, f"Giữ lại sau khi nhập: {_reason(reason)}", by=by)
    except withholding.NoSuchDocument:
        raise UserError(f"Không có văn bản #{document_id}.") from None


def release(archive: Archive, document_id: int, reason: str, *, role: str, by: str) -> Change:
    """Release (admins only): searchable again."""
    if role not in RELEASERS:
        raise UserError("Chỉ quản trị viên được giải tỏa văn bản đã giữ lại.")
    try:
        if not 0 < document_id <= MAX_ID:
            raise withholding.NoSuchDocument(document_id)
        return withholding.release(archive, document_id, _reason(reason), by=by)
    except withholding.NoSuchDocument:
        raise UserError(f"Không có văn bản #{document_id}.") from None


def operator(session: Session, username: str) -> Account:
    """The account a CLI command acts as (``--by``): it must exist and be active."""
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None or not account.active or account.disabled_at is not None:
        raise UserError(f"Không có tài khoản đang hoạt động tên {username!r}.")
    return account
