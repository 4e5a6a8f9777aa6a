"""``archive export``: a fonds, a dossier, or everything a new unit succeeded, as transfer packages.

``bag``: one BagIt bag per old unit in this archive's own contract (docs/export-package.md),
so that another instance ingests it and holds the same documents, fields and search results:

* originals are copied byte for byte at the paths they arrived under (``path_in_package``),
  so missing, refused and unreferenced files, and edXML messages, come back as they were;
* a row is written for each document registered from a manifest row, with the values the
  exporter gave (field source ``manifest`` or ``edxml``); values the archive read from the
  text are left for the other side to read again, so provenance survives the trip;
* ``ho_so.csv`` carries the dossiers listed at ingest with their values as written, and the
  rows carry ``ma_ho_so`` and ``so_thu_tu``: access regime and retention travel with them;
* withheld (secret) documents are never exported; the handover record counts them.

Each bag carries its handover record (biên bản) as a tag file ``bien-ban-ban-giao.json`` (and a
readable ``bien-ban-ban-giao.txt``), listed in the bag's tag manifest: counts, and the SHA-256 of
every payload file.  The E-ARK form is ``archive_ops.eark``; ``archive_ops.transfer`` picks one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, Dossier, OldUnit, Package, Succession, UnitMappingVersion
from archive_core.store import blob_path
from ingest.dossier_list import COLUMNS as DOSSIER_LIST_COLUMNS
from ingest.fields import COLUMN_TO_ATTRIBUTE

GIVEN_SOURCES = ("manifest", "edxml")
DOCUMENT_COLUMNS = [*COLUMN_TO_ATTRIBUTE, "so_den", "ngay_den", "so_thu_tu", "tep_dinh_kem"]
DOSSIER_COLUMNS = list(DOSSIER_LIST_COLUMNS)  # the contract's ho_so.csv columns, as ingest reads them
RECORD_NAME = "bien-ban-ban-giao"


class ExportError(ValueError):
    """Nothing to export, or a destination that would overwrite something."""


@dataclass
class Selection:
    """What to export: documents grouped by old unit (the fonds each bag is of)."""

    label: str  # how the archivist asked: "don-vi-cu 11950", "don-vi-moi 11983", "ho-so HS-2024-07"
    documents: dict[str, list[int]] = field(default_factory=dict)  # unit code -> document ids
    withheld: dict[str, int] = field(default_factory=dict)  # unit code -> withheld documents left out
    dossier: str = ""


def select_documents(session: Session, *, unit: str = "", new_unit: str = "", dossier: str = "") -> Selection:
    """The documents of one old unit, of every predecessor of a new unit, or of one dossier."""
    query = select(Document.id, Document.unit_code, Document.withheld)
    if unit:
        query = query.where(Document.unit_code == unit)
        label = f"don-vi-cu {unit}"
    if new_unit:
        olds = _predecessors(session, new_unit)
        if not olds:
            raise ExportError(f"Đơn vị mới {new_unit} không có đơn vị cũ nào trong bảng ánh xạ đang áp dụng.")
        query = query.where(Document.unit_code.in_(sorted(olds)))
        label = f"don-vi-moi {new_unit}"
    if dossier:
        query = query.where(Document.dossier == dossier)
        label = f"ho-so {dossier}" + (f" ({unit})" if unit else "")
    if not (unit or new_unit or dossier):
        raise ExportError("Chọn --unit, --new-unit hoặc --dossier.")
    selection = Selection(label=label, dossier=dossier)
    for doc_id, code, withheld in session.execute(query.order_by(Document.id)):
        if withheld:
            selection.withheld[code] = selection.withheld.get(code, 0) + 1
        else:
            selection.documents.setdefault(code, []).append(doc_id)
    if not selection.documents:
        raise ExportError("Không có văn bản nào để xuất.")
    return selection


def _predecessors(session: Session, new_unit: str) -> set[str]:
    """As the lookup scope: the old units mapped to the new unit, and their old districts."""
    version = session.scalar(select(UnitMappingVersion.id).order_by(UnitMappingVersion.id.desc()).limit(1))
    olds = set(
        session.scalars(
            select(Succession.old_code).where(Succession.version_id == version, Succession.new_code == new_unit)
        )
    )
    districts = set(
        session.scalars(select(OldUnit.parent_code).where(OldUnit.code.in_(olds), OldUnit.parent_code != ""))
    )
    return olds | districts


# -- rows --------------------------------------------------------------------------------------
def _given(document: Document, attribute: str) -> str:
    sources = document.field_sources or {}
    if sources.get(attribute) not in GIVEN_SOURCES and attribute != "ma_van_ban":
        return ""
    value = getattr(document, attribute)
    return "" if value is None else str(value)


def document_row(document: Document) -> dict[str, str]:
    """The row the exporter would have written: the values it gave, its unknown columns, its files."""
    row: dict[str, str] = {}
    for column, attribute in COLUMN_TO_ATTRIBUTE.items():
        if attribute == "page_count":
            continue
        row[column] = _given(document, attribute)
    row["ma_van_ban"] = document.ma_van_ban
    if document.dossier:
        row["ma_ho_so"] = document.dossier
    file_pages = sum(f.page_count for f in document.files)
    if document.page_count is not None and document.page_count != file_pages:
        row["so_trang"] = str(document.page_count)  # not what the files give: the manifest said so
    if document.dossier_order is not None:
        row["so_thu_tu"] = str(document.dossier_order)
    for key, value in (document.extra or {}).items():
        row.setdefault(key, str(value))
        if not row[key]:
            row[key] = str(value)
    row["tep_dinh_kem"] = ";".join(
        f.path_in_package for f in sorted(document.files, key=lambda f: f.position) if "#" not in f.path_in_package
    )
    return row


def dossier_row(dossier: Dossier) -> dict[str, str]:
    row = {
        "ma_ho_so": dossier.code,
        "tieu_de": dossier.title,
        "thoi_han_bao_quan": dossier.retention_raw,
        "che_do_su_dung": dossier.access_raw,
        "muc_do_tin_cay": dossier.reliability,
        "nguoi_lap": dossier.creator,
        "ngay_bat_dau": dossier.start_date_raw,
        "ngay_ket_thuc": dossier.end_date_raw,
        "tu_khoa": dossier.keywords,
        "so_luong_van_ban": "" if dossier.registered_documents is None else str(dossier.registered_documents),
        "so_luong_trang": "" if dossier.registered_pages is None else str(dossier.registered_pages),
        "ghi_chu": dossier.remarks,
    }
    for key, value in (dossier.extra or {}).items():
        row.setdefault(key, str(value))
    return row


def _write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, str]]) -> None:
    rows = list(rows)
    extra = sorted({k for r in rows for k in r} - set(columns))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*columns, *extra])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in [*columns, *extra]})


# -- one bag -----------------------------------------------------------------------------------
@dataclass
class UnitExport:
    unit_code: str
    path: Path
    documents: int = 0
    rows: int = 0
    files: int = 0
    bytes: int = 0
    dossiers: int = 0
    restricted: int = 0
    withheld_left_out: int = 0
    missing_originals: list[str] = field(default_factory=list)
    fixity_failures: list[str] = field(default_factory=list)  # copies whose bytes differ from the stored hash
    checksums: dict[str, str] = field(default_factory=dict)  # payload path -> sha256 of the copy
    stored_sha256: dict[str, str] = field(default_factory=dict)  # payload path -> sha256 recorded at ingest


def _copy(archive: Archive, sha: str, target: Path) -> tuple[int, str]:
    """Copy one original, hashing the bytes written: (size, SHA-256 of the copy)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with open(blob_path(archive.settings.store_dir, sha), "rb") as source, open(target, "wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def load_documents(session: Session, ids: list[int]) -> list[Document]:
    return list(
        session.scalars(
            select(Document).where(Document.id.in_(ids)).options(selectinload(Document.files)).order_by(Document.id)
        )
    )


def copy_originals(archive: Archive, documents: list[Document], data_dir: Path, result: UnitExport) -> dict[str, str]:
    """Every original at its package path under ``data_dir``; returns path -> SHA-256 of what was written.

    A copy whose hash differs from the stored one is a failed fixity check: recorded in
    ``result.fixity_failures`` (and in the biên bản), never silently shipped as good.
    """
    copied: dict[str, str] = {}
    for document in documents:
        result.documents += 1
        result.restricted += int(bool(document.restricted))
        for f in document.files:
            rel = f.path_in_package
            if "#" in rel or not f.blob_sha256 or rel in copied:  # decoded edXML parts travel in their message
                continue
            safe = posixpath.normpath(rel)
            if safe.startswith(("../", "/")) or safe in ("documents.csv", "ho_so.csv"):
                continue
            try:
                size, actual = _copy(archive, f.blob_sha256, data_dir / safe)
            except FileNotFoundError:
                result.missing_originals.append(rel)
                continue
            if actual != f.blob_sha256:
                result.fixity_failures.append(rel)
            result.bytes += size
            copied[rel] = actual
            result.checksums[safe] = actual
            result.stored_sha256[safe] = f.blob_sha256
    result.files = len(copied)
    return copied


def write_lists(
    session: Session, unit_code: str, documents: list[Document], folder: Path, result: UnitExport
) -> list[str]:
    """documents.csv (rows of manifest documents) and ho_so.csv (listed dossiers) in ``folder``; their names."""
    rows = [document_row(d) for d in documents if d.origin == "manifest"]
    result.rows = len(rows)
    written = []
    if rows:
        _write_csv(folder / "documents.csv", DOCUMENT_COLUMNS, rows)
        written.append("documents.csv")
    codes = {d.dossier for d in documents if d.dossier}
    listed = [
        d
        for d in session.scalars(
            select(Dossier)
            .where(Dossier.unit_code == unit_code, Dossier.code.in_(sorted(codes)))
            .order_by(Dossier.code)
        )
        if d.origin == "list"
    ]
    result.dossiers = len(codes)
    if listed:
        _write_csv(folder / "ho_so.csv", DOSSIER_COLUMNS, (dossier_row(d) for d in listed))
        written.append("ho_so.csv")
    return written


def _unit_facts(session: Session, unit_code: str) -> dict[str, str]:
    unit = session.get(OldUnit, unit_code)
    package = session.scalar(select(Package).where(Package.unit_code == unit_code).order_by(Package.id.desc()).limit(1))
    info = dict(package.bag_info or {}) if package else {}
    return {
        "Source-Organization": info.get("Source-Organization") or (unit.name if unit else unit_code),
        "Unit-Code": unit_code,
        "Unit-Level": info.get("Unit-Level") or (unit.level if unit else ""),
        "Parent-Unit-Code": info.get("Parent-Unit-Code") or (unit.parent_code if unit else ""),
        "Source-System": "Kho lưu trữ văn bản các đơn vị hành chính cũ (archive export)",
        "Export-Date": date.today().isoformat(),
    }


def export_unit_bag(
    archive: Archive,
    session: Session,
    unit_code: str,
    ids: list[int],
    target: Path,
    *,
    dossier: str = "",
    withheld: int = 0,
    label: str = "",
) -> UnitExport:
    """One bag of one old unit's documents (``ids``) at ``target``."""
    result = UnitExport(unit_code=unit_code, path=target, withheld_left_out=withheld)
    target.mkdir(parents=True)
    documents = load_documents(session, ids)
    copy_originals(archive, documents, target, result)
    for name in write_lists(session, unit_code, documents, target, result):
        result.checksums[name] = hashlib.sha256((target / name).read_bytes()).hexdigest()
    bag = bagit.make_bag(str(target), bag_info=_unit_facts(session, unit_code), checksums=["sha256"])
    write_record(target, result, label or f"don-vi-cu {unit_code}", dossier, prefix="data/")
    bag.save(manifests=True)  # the tag manifest now lists the handover record too
    return result


def write_record(
    folder: Path, result: UnitExport, label: str, dossier: str, *, prefix: str, more: dict[str, str] | None = None
) -> None:
    """The handover record (biên bản), JSON and text, in ``folder``; paths of files under ``prefix``."""
    record = {
        "bien_ban": "Biên bản bàn giao tài liệu số (xuất từ kho lưu trữ)",
        "lap_luc_utc": utcnow().isoformat(timespec="seconds"),
        "pham_vi": label,
        "don_vi_cu": result.unit_code,
        "ho_so": dossier,
        "so_luong": {
            "van_ban": result.documents,
            "dong_bang_ke": result.rows,
            "tep": result.files,
            "byte": result.bytes,
            "ho_so": result.dossiers,
            "van_ban_han_che": result.restricted,
            "van_ban_mat_khong_xuat": result.withheld_left_out,
            "ban_goc_thieu_trong_kho": len(result.missing_originals),
            "sai_ma_kiem_tra": len(result.fixity_failures),
        },
        "ban_goc_thieu": result.missing_originals,
        "sai_ma_kiem_tra": result.fixity_failures,
        "ma_kiem_tra_sha256": {**{f"{prefix}{k}": v for k, v in sorted(result.checksums.items())}, **(more or {})},
    }
    (folder / f"{RECORD_NAME}.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        "BIÊN BẢN BÀN GIAO TÀI LIỆU SỐ",
        f"Phạm vi: {label}; đơn vị cũ (phông): {result.unit_code}",
        f"Số văn bản: {result.documents} (hạn chế sử dụng: {result.restricted}); dòng bảng kê: {result.rows}",
        f"Số tệp: {result.files}, tổng {result.bytes:,} byte; hồ sơ: {result.dossiers}",
        f"Văn bản mật không xuất: {result.withheld_left_out}; bản gốc thiếu trong kho: {len(result.missing_originals)}",
        "Mã kiểm tra SHA-256 của từng tệp: xem bien-ban-ban-giao.json (và manifest của gói).",
    ]
    (folder / f"{RECORD_NAME}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
