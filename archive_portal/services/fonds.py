"""Fonds (phông lưu trữ): one per old unit, described from the units mapping and what the archive holds.

The administrative history of the creating unit is generated from the succession rows
of the mapping in force, with the resolution clause behind each row quoted as given:
for a merged commune, exactly its predecessors' partners and its successors.  Nothing
here writes: the description is derived each time from the mapping and the documents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_core.db.models import Document, DocumentFile, Dossier, NewUnit, OldUnit, Package, Succession
from ingest.dossiers import ACCESS_LABELS, HAN_CHE

from .formatting import format_date
from .scope import may_read, may_see_restricted
from .units import current_version_id

LEVEL_LABELS = {"tinh": "cấp tỉnh", "huyen": "cấp huyện", "xa": "cấp xã"}


@dataclass(frozen=True)
class Successor:
    new_code: str
    new_name: str
    effective_date: date | None
    basis: str  # the resolution clause, verbatim
    together_with: list[tuple[str, str]]  # the other old units mapped to the same new unit


@dataclass(frozen=True)
class DossierSummary:
    id: int
    code: str
    title: str
    retention: str
    access: str
    access_label: str
    start: str
    end: str
    documents: int  # held by the archive
    registered_documents: int | None


@dataclass(frozen=True)
class FondsView:
    code: str  # the fonds code: the old unit's code
    name: str
    level: str
    level_label: str
    parent_code: str
    parent_name: str
    province: str
    first_date: date | None
    last_date: date | None
    documents: int
    restricted_documents: int
    files: int
    pages: int
    packages: int
    successors: list[Successor]
    children: list[tuple[str, str]]
    history: list[str]
    dossiers: list[DossierSummary] = field(default_factory=list)

    @property
    def dates(self) -> str:
        if not self.first_date:
            return ""
        return f"{format_date(self.first_date)} – {format_date(self.last_date)}"

    def as_dict(self) -> dict[str, Any]:
        """The fonds description as exported (JSON): every field, dates ISO."""
        return {
            "ma_phong": self.code,
            "ten_phong": self.name,
            "cap": self.level,
            "don_vi_cap_tren": self.parent_code,
            "ten_don_vi_cap_tren": self.parent_name,
            "tinh": self.province,
            "thoi_gian_tai_lieu": {
                "tu": self.first_date.isoformat() if self.first_date else None,
                "den": self.last_date.isoformat() if self.last_date else None,
            },
            "so_luong": {
                "van_ban": self.documents,
                "van_ban_han_che": self.restricted_documents,
                "tep": self.files,
                "trang": self.pages,
                "goi_ban_giao": self.packages,
                "ho_so": len(self.dossiers),
            },
            "lich_su_don_vi_hinh_thanh_phong": self.history,
            "don_vi_ke_thua": [
                {
                    "ma": s.new_code,
                    "ten": s.new_name,
                    "ngay_hieu_luc": s.effective_date.isoformat() if s.effective_date else None,
                    "can_cu": s.basis,
                    "cung_voi": [{"ma": c, "ten": n} for c, n in s.together_with],
                }
                for s in self.successors
            ],
            "don_vi_truc_thuoc": [{"ma": c, "ten": n} for c, n in self.children],
            "ho_so": [
                {
                    "ma_ho_so": d.code,
                    "tieu_de": d.title,
                    "thoi_han_bao_quan": d.retention,
                    "che_do_su_dung": d.access_label,
                    "ngay_bat_dau": d.start,
                    "ngay_ket_thuc": d.end,
                    "so_van_ban_luu": d.documents,
                    "so_van_ban_dang_ky": d.registered_documents,
                }
                for d in self.dossiers
            ],
        }


def retention_label(dossier: Dossier) -> str:
    if dossier.permanent:
        return "Vĩnh viễn"
    if dossier.retention_years:
        return f"{dossier.retention_years} năm"
    return dossier.retention_raw


def _successors(session: Session, unit: OldUnit) -> list[Successor]:
    version = current_version_id(session)
    if version is None:
        return []
    rows = list(
        session.scalars(
            select(Succession)
            .where(Succession.version_id == version, Succession.old_code == unit.code)
            .order_by(Succession.new_code)
        )
    )
    out = []
    for row in rows:
        new = session.get(NewUnit, row.new_code)
        partners = session.execute(
            select(OldUnit.code, OldUnit.name)
            .join(Succession, Succession.old_code == OldUnit.code)
            .where(
                Succession.version_id == version,
                Succession.new_code == row.new_code,
                OldUnit.code != unit.code,
                OldUnit.level == unit.level,
            )
            .order_by(OldUnit.name)
        ).all()
        out.append(
            Successor(
                row.new_code,
                new.name if new else row.new_code,
                row.effective_date,
                row.basis,
                [(c, n) for c, n in partners],
            )
        )
    return out


def _heirs(session: Session, children: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """New units that took over a district's communes (the district's documents go to each of them)."""
    version = current_version_id(session)
    if version is None or not children:
        return []
    rows = session.execute(
        select(NewUnit.code, NewUnit.name)
        .join(Succession, Succession.new_code == NewUnit.code)
        .where(Succession.version_id == version, Succession.old_code.in_([c for c, _ in children]))
        .distinct()
        .order_by(NewUnit.name)
    )
    return [(c, n) for c, n in rows]


def administrative_history(
    unit: OldUnit,
    parent: OldUnit | None,
    successors: list[Successor],
    children: list[tuple[str, str]],
    heirs: list[tuple[str, str]] | None = None,
) -> list[str]:
    """The history of the creating unit, in Vietnamese, from the mapping's facts only."""
    level = LEVEL_LABELS.get(unit.level, unit.level)
    first = f"{unit.name} (mã {unit.code}) là đơn vị hành chính {level}"
    if parent is not None:
        first += f" thuộc {parent.name} (mã {parent.code})"
    if unit.province:
        first += f", {unit.province}"
    paragraphs = [first + "."]
    if children:
        paragraphs.append(f"Các đơn vị cấp xã trực thuộc theo bảng ánh xạ: {', '.join(n for _, n in children)}.")
    split = len(successors) > 1
    for s in successors:
        when = f"Từ ngày {format_date(s.effective_date)}" if s.effective_date else "Theo bảng ánh xạ đơn vị"
        if split:
            text = f"{when}, một phần của {unit.name} được sắp xếp vào {s.new_name} (mã {s.new_code})"
            if s.together_with:
                text += f" cùng {', '.join(n for _, n in s.together_with)}"
        elif s.together_with:
            others = ", ".join(n for _, n in s.together_with)
            text = f"{when}, {unit.name} cùng {others} được sắp xếp thành {s.new_name} (mã {s.new_code})"
        else:
            text = f"{when}, {unit.name} được sắp xếp thành {s.new_name} (mã {s.new_code})"
        paragraphs.append(text + (f". Căn cứ: {s.basis}" if s.basis else "."))
    heirs = heirs or []
    if not successors and heirs:
        paragraphs.append(
            f"Các đơn vị mới kế thừa địa bàn của {unit.name} (theo các xã trực thuộc): "
            f"{', '.join(f'{n} (mã {c})' for c, n in heirs)}; tài liệu của phông thuộc phạm vi "
            "tra cứu của từng đơn vị này."
        )
    elif not successors:
        paragraphs.append("Bảng ánh xạ đang áp dụng không ghi đơn vị kế thừa của đơn vị này.")
    return paragraphs


def _dossier_summaries(session: Session, unit_code: str) -> list[DossierSummary]:
    held = dict(
        session.execute(
            select(Document.dossier, func.count())
            .where(Document.unit_code == unit_code, Document.dossier != "")
            .group_by(Document.dossier)
        ).all()
    )
    return [
        DossierSummary(
            d.id,
            d.code,
            d.title,
            retention_label(d),
            d.access,
            ACCESS_LABELS.get(d.access, d.access),
            format_date(d.start_date) or d.start_date_raw,
            format_date(d.end_date) or d.end_date_raw,
            held.get(d.code, 0),
            d.registered_documents,
        )
        for d in session.scalars(select(Dossier).where(Dossier.unit_code == unit_code).order_by(Dossier.code))
    ]


def fonds_view(session: Session, unit_code: str) -> FondsView | None:
    """The fonds of one old unit (for archivists: every document is counted, restricted ones too)."""
    unit = session.get(OldUnit, unit_code)
    if unit is None:
        return None
    parent = session.get(OldUnit, unit.parent_code) if unit.parent_code else None
    children = [
        (c, n)
        for c, n in session.execute(
            select(OldUnit.code, OldUnit.name).where(OldUnit.parent_code == unit.code).order_by(OldUnit.name)
        )
    ]
    successors = _successors(session, unit)
    mine = Document.unit_code == unit_code
    first, last, documents = session.execute(
        select(func.min(Document.issued_date), func.max(Document.issued_date), func.count()).where(mine)
    ).one()
    restricted = session.scalar(select(func.count()).where(mine, Document.restricted.is_(True))) or 0
    files, pages = session.execute(
        select(func.count(DocumentFile.id), func.coalesce(func.sum(DocumentFile.page_count), 0))
        .join(Document, Document.id == DocumentFile.document_id)
        .where(mine)
    ).one()
    packages = session.scalar(select(func.count()).select_from(Package).where(Package.unit_code == unit_code)) or 0
    return FondsView(
        code=unit.code,
        name=unit.name,
        level=unit.level,
        level_label=LEVEL_LABELS.get(unit.level, unit.level),
        parent_code=unit.parent_code,
        parent_name=parent.name if parent else "",
        province=unit.province,
        first_date=first,
        last_date=last,
        documents=documents,
        restricted_documents=restricted,
        files=files,
        pages=int(pages or 0),
        packages=packages,
        successors=successors,
        children=children,
        history=administrative_history(unit, parent, successors, children, _heirs(session, children)),
        dossiers=_dossier_summaries(session, unit_code),
    )


def fonds_list(session: Session) -> list[tuple[str, str, int]]:
    """(code, name, documents) of every old unit the archive holds documents of."""
    rows = session.execute(select(Document.unit_code, func.count()).group_by(Document.unit_code)).all()
    names = dict(session.execute(select(OldUnit.code, OldUnit.name)).all())
    return sorted(((c, names.get(c, c), n) for c, n in rows), key=lambda r: r[1])


# -- dossiers ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DossierDocument:
    id: int
    order: int | None
    number: str
    issued: str
    doc_type: str
    subject: str
    restricted: bool
    withheld: bool


@dataclass(frozen=True)
class DossierView:
    id: int
    unit_code: str
    unit_name: str
    code: str
    title: str
    retention: str
    access: str
    access_label: str
    reliability: str
    creator: str
    start: str
    end: str
    keywords: list[str]
    registered_documents: int | None
    registered_pages: int | None
    remarks: str
    extra: dict
    flags: list[str]
    origin: str
    documents: list[DossierDocument]

    @property
    def restricted(self) -> bool:
        return self.access == HAN_CHE


def dossier_view(
    session: Session, dossier_id: int, scope: frozenset[str] | None = None, *, archivist: bool = False
) -> DossierView | None:
    """A dossier and its documents in their order (so_thu_tu, then date).

    For every reader's page the dossier must be of a unit in the scope, a restricted one only
    for accounts allowed restricted material, and only documents the account may read are
    listed (never a withheld one).  ``archivist``: the archivists' page, everything named.
    """
    d = session.get(Dossier, dossier_id) if 0 < dossier_id < 2**63 else None
    if d is None:
        return None
    if not archivist and (
        (scope is not None and d.unit_code not in scope) or (d.access == HAN_CHE and not may_see_restricted(scope))
    ):
        return None
    unit = session.get(OldUnit, d.unit_code)
    docs = [
        x
        for x in session.scalars(select(Document).where(Document.unit_code == d.unit_code, Document.dossier == d.code))
        if archivist or may_read(x, scope)
    ]
    ordered = sorted(
        docs, key=lambda x: (x.dossier_order is None, x.dossier_order or 0, x.issued_date or date.max, x.id)
    )
    return DossierView(
        id=d.id,
        unit_code=d.unit_code,
        unit_name=unit.name if unit else d.unit_code,
        code=d.code,
        title=d.title,
        retention=retention_label(d),
        access=d.access,
        access_label=ACCESS_LABELS.get(d.access, d.access),
        reliability=d.reliability,
        creator=d.creator,
        start=format_date(d.start_date) or d.start_date_raw,
        end=format_date(d.end_date) or d.end_date_raw,
        keywords=[k.strip() for k in (d.keywords or "").split(";") if k.strip()],
        registered_documents=d.registered_documents,
        registered_pages=d.registered_pages,
        remarks=d.remarks,
        extra=dict(d.extra or {}),
        flags=list(d.flags or []),
        origin=d.origin,
        documents=[
            DossierDocument(
                x.id,
                x.dossier_order,
                x.number,
                format_date(x.issued_date) or x.issued_date_raw,
                x.doc_type,
                x.subject,
                bool(x.restricted),
                bool(x.withheld),
            )
            for x in ordered
        ],
    )


# -- retention and transfer --------------------------------------------------------------------
TRANSFER_AFTER_YEARS = 1 + 5  # Luật Lưu trữ 2024: current archive within 1 year, historical within 5 more
DUE_TRANSFER = "nop_luu_lich_su"
END_OF_RETENTION = "het_thoi_han"
UNKNOWN = "chua_xac_dinh"
DUE_LABELS = {
    DUE_TRANSFER: "Đến hạn nộp lưu vào Lưu trữ lịch sử (hồ sơ bảo quản vĩnh viễn)",
    END_OF_RETENTION: "Hết thời hạn bảo quản: đưa ra Hội đồng xác định giá trị tài liệu (hệ thống không xóa)",
    UNKNOWN: "Chưa xác định được hạn: thiếu năm kết thúc hoặc thời hạn bảo quản",
}


@dataclass(frozen=True)
class RetentionItem:
    kind: str
    dossier_id: int
    unit_code: str
    unit_name: str
    code: str
    title: str
    retention: str
    end_year: int | None
    end_year_from_documents: bool
    due_year: int | None


def retention_due(
    session: Session, today: date | None = None
) -> dict[str, dict[tuple[str, int | None], list[RetentionItem]]]:
    """What is due, by kind, then by (fonds, year due): nothing here ever deletes anything."""
    year = (today or date.today()).year
    names = dict(session.execute(select(OldUnit.code, OldUnit.name)).all())
    last_document = {
        (u, c): d
        for u, c, d in session.execute(
            select(Document.unit_code, Document.dossier, func.max(Document.issued_date))
            .where(Document.dossier != "")
            .group_by(Document.unit_code, Document.dossier)
        )
    }
    out: dict[str, dict[tuple[str, int | None], list[RetentionItem]]] = {k: defaultdict(list) for k in DUE_LABELS}
    for d in session.scalars(select(Dossier).order_by(Dossier.unit_code, Dossier.code)):
        end = d.end_date or last_document.get((d.unit_code, d.code))
        end_year = end.year if end else None
        if end_year is None or not (d.permanent or d.retention_years):
            kind, due = UNKNOWN, None
        elif d.permanent:
            kind, due = DUE_TRANSFER, end_year + TRANSFER_AFTER_YEARS
        else:
            kind, due = END_OF_RETENTION, end_year + int(d.retention_years or 0)
        if due is not None and due > year:
            continue
        out[kind][(d.unit_code, due)].append(
            RetentionItem(
                kind,
                d.id,
                d.unit_code,
                names.get(d.unit_code, d.unit_code),
                d.code,
                d.title,
                retention_label(d),
                end_year,
                d.end_date is None and end_year is not None,
                due,
            )
        )
    return {
        k: dict(sorted(v.items(), key=lambda kv: (names.get(kv[0][0], kv[0][0]), kv[0][1] or 0)))
        for k, v in out.items()
    }
