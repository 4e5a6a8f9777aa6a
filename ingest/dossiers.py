"""Dossiers (hồ sơ): read from the package's ``ho_so.*`` list and from ``ma_ho_so`` on its rows.

Contract section 3a.  A dossier belongs to the fonds of its old unit; its documents
are ordered by ``so_thu_tu`` and inherit its retention (thời hạn bảo quản) and
access regime (chế độ sử dụng).  Access fails closed like secrecy: any value but
empty or ``Không hạn chế`` makes the dossier, and so its documents, restricted.
Nothing is ever deleted: a dossier listed again is updated, never removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, Dossier
from indexes.fold import fold

from . import secrecy
from .dossier_list import DossierRow, read_dossier_list
from .fields import parse_date
from .indexing import index_document
from .manifests import Row

HAN_CHE = "han_che"
KHONG_HAN_CHE = "khong_han_che"
ACCESS_LABELS = {HAN_CHE: "Hạn chế", KHONG_HAN_CHE: "Không hạn chế", "": "Không ghi"}
RETENTION_YEARS = (70, 50, 30, 20, 10, 5)  # TT 05/2025/TT-BNV; others are kept and flagged


def parse_access(value: str) -> str:
    """``Không hạn chế`` → khong_han_che; empty → ""; anything else (``Hạn chế``, unknown words) → han_che."""
    text = re.sub(r"[^a-z]", "", fold(value or ""))
    if not text:
        return ""
    return KHONG_HAN_CHE if text in ("khonghanche", "khong", "public", "open") else HAN_CHE


def parse_retention(value: str) -> tuple[bool, int | None, str]:
    """(permanent, years, problem): ``Vĩnh viễn``, ``70``, ``70 năm``; anything else kept with a problem."""
    text = fold(value or "").strip()
    if not text:
        return False, None, ""
    if re.sub(r"[^a-z]", "", text) in ("vinhvien", "permanent"):
        return True, None, ""
    match = re.fullmatch(r"(\d{1,3})\s*(nam)?", text)
    if match:
        years = int(match.group(1))
        return False, years, "" if years in RETENTION_YEARS else f"Thời hạn bảo quản ngoài danh mục: {value}"
    return False, None, f"Thời hạn bảo quản không đọc được, giữ nguyên: {value}"


def _count(value: str, flags: list[str], name: str) -> int | None:
    if not value:
        return None
    if value.isdigit():
        return int(value)
    flags.append(f"{name} không phải số: {value}")
    return None


def fill_dossier(dossier: Dossier, row: DossierRow) -> None:
    """Set every field the row gives (a value already kept is replaced only by a non-empty one)."""
    v = row.values
    flags: list[str] = []
    if v.get("tieu_de"):
        dossier.title = v["tieu_de"]
    if v.get("thoi_han_bao_quan"):
        dossier.retention_raw = v["thoi_han_bao_quan"]
        dossier.permanent, dossier.retention_years, problem = parse_retention(v["thoi_han_bao_quan"])
        if problem:
            flags.append(problem)
    if v.get("che_do_su_dung"):
        dossier.access_raw = v["che_do_su_dung"]
        dossier.access = parse_access(v["che_do_su_dung"])
    for column, attribute in (
        ("muc_do_tin_cay", "reliability"),
        ("nguoi_lap", "creator"),
        ("tu_khoa", "keywords"),
        ("ghi_chu", "remarks"),
    ):
        if v.get(column):
            setattr(dossier, attribute, v[column])
    for column, attribute in (("ngay_bat_dau", "start_date"), ("ngay_ket_thuc", "end_date")):
        if v.get(column):
            setattr(dossier, f"{attribute}_raw", v[column])
            parsed = parse_date(v[column])
            setattr(dossier, attribute, parsed)
            if parsed is None:
                flags.append(f"Ngày không đọc được, giữ nguyên: {v[column]}")
    if v.get("so_luong_van_ban"):
        dossier.registered_documents = _count(v["so_luong_van_ban"], flags, "so_luong_van_ban")
    if v.get("so_luong_trang"):
        dossier.registered_pages = _count(v["so_luong_trang"], flags, "so_luong_trang")
    dossier.extra = {**(dossier.extra or {}), **row.extra}
    dossier.flags = flags
    dossier.origin = "list"
    dossier.updated_at = utcnow()


def _dossier(session: Session, unit_code: str, code: str) -> Dossier | None:
    return session.scalar(select(Dossier).where(Dossier.unit_code == unit_code, Dossier.code == code))


@dataclass
class DossierOutcome:
    listed: int = 0
    from_rows: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    warnings: list[str] = field(default_factory=list)
    access_changed: int = 0


def register_dossiers(
    archive: Archive,
    *,
    package_id: int,
    unit_code: str,
    dossier_list: Path | None,
    list_sha256: str = "",
    rows: list[Row] | None = None,
) -> DossierOutcome:
    """Record the package's dossiers and its documents' order, then apply access to the unit's documents."""
    outcome = DossierOutcome()
    listed: list[DossierRow] = []
    if dossier_list is not None:
        listed, outcome.warnings = read_dossier_list(dossier_list)
    with archive.db.write_transaction() as session:
        for row in listed:
            code = row.values.get("ma_ho_so", "")
            if not code:
                outcome.refused.append((row.line, "Thiếu mã hồ sơ (ma_ho_so)"))
                continue
            dossier = _dossier(session, unit_code, code)
            if dossier is None:
                dossier = Dossier(unit_code=unit_code, code=code, package_id=package_id, extra={}, flags=[])
                session.add(dossier)
            dossier.source_sha256 = list_sha256 or dossier.source_sha256
            fill_dossier(dossier, row)
            session.flush()
            outcome.listed += 1
        codes = set(
            session.scalars(
                select(Document.dossier).where(Document.package_id == package_id, Document.dossier != "").distinct()
            )
        )
        for code in sorted(codes):
            if _dossier(session, unit_code, code) is None:
                session.add(
                    Dossier(unit_code=unit_code, code=code, package_id=package_id, origin="rows", extra={}, flags=[])
                )
                outcome.from_rows += 1
        for document_row in rows or []:
            order = document_row.values.get("so_thu_tu", "")
            if order and document_row.key:
                _set_order(session, package_id, document_row.key, order)
            own = document_row.values.get("che_do_su_dung", "")
            if own and document_row.key:
                _set_own_access(session, package_id, unit_code, document_row.key, own)
        session.flush()
        changed = apply_access(session, unit_code)
    reindex(archive, changed)
    outcome.access_changed = len(changed)
    return outcome


def _set_order(session: Session, package_id: int, key: str, order: str) -> None:
    document = session.scalar(select(Document).where(Document.package_id == package_id, Document.ma_van_ban == key))
    if document is None:
        return
    if order.isdigit():
        document.dossier_order = int(order)
    else:
        document.flags = [*(document.flags or []), f"so_thu_tu không phải số: {order}"]
        document.extra = {**(document.extra or {}), "so_thu_tu": order}


def _set_own_access(session: Session, package_id: int, unit_code: str, key: str, value: str) -> None:
    """A row's own chế độ sử dụng: kept as given; anything but "Không hạn chế" restricts the document.

    A re-export that restricts a document already in the archive (from an earlier package)
    restricts it too; a re-export never lifts a restriction.
    """
    restrict = parse_access(value) == HAN_CHE
    for document in session.scalars(
        select(Document).where(Document.unit_code == unit_code, Document.ma_van_ban == key)
    ):
        if document.package_id == package_id:
            document.extra = {**(document.extra or {}), "che_do_su_dung": value}
            document.restricted_own = restrict
        elif restrict and not document.restricted_own:
            document.restricted_own = True
            document.flags = [*(document.flags or []), f"Hạn chế sử dụng theo gói #{package_id}: {value}"]


def apply_access(session: Session, unit_code: str) -> list[int]:
    """Documents of the unit take their dossier's access regime (or their own, when restricted); returns the ids that changed.

    A changed document is marked for indexing again (``indexed_at`` cleared); the caller
    re-indexes at once the ones that were searchable, so a restriction takes effect now.
    """
    restricted_dossier = exists().where(
        and_(Dossier.unit_code == Document.unit_code, Dossier.code == Document.dossier, Dossier.access == HAN_CHE)
    )
    restricted = or_(Document.restricted_own.is_(True), restricted_dossier)
    changed: list[int] = []
    for value, condition in ((True, restricted), (False, ~restricted)):
        ids = list(
            session.scalars(
                select(Document.id).where(Document.unit_code == unit_code, Document.restricted.is_not(value), condition)
            )
        )
        if ids:
            session.execute(
                update(Document)
                .where(Document.id.in_(ids))
                .values(restricted=value, indexed_at=None)
                .execution_options(synchronize_session=False)
            )
            changed += ids
    return changed


def reindex(archive: Archive, ids: list[int]) -> None:
    """Index again, now, the documents whose access changed and that are ready (upsert by id)."""
    if not ids:
        return
    with archive.db.session() as session:
        documents = list(
            session.scalars(
                select(Document).where(
                    Document.id.in_(ids), Document.text_ready.is_(True), Document.withheld.is_(False)
                )
            )
        )
        # a stamped document waits for index_ready, which withholds it (``secrecy``)
        documents = [d for d in documents if secrecy.from_document(d) is None]
        if documents:
            archive.engine.index([index_document(session, d) for d in documents])
            ready = [d.id for d in documents]
    if documents:
        with archive.db.write_transaction() as session:
            session.execute(
                update(Document)
                .where(Document.id.in_(ready))
                .values(indexed_at=utcnow())
                .execution_options(synchronize_session=False)
            )
