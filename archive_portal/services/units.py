"""Loading the old-to-new units mapping (contract section 6), keeping every version."""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import NewUnit, OldUnit, Succession, UnitMappingVersion

REQUIRED_COLUMNS = ("old_code", "old_name", "old_level", "new_code", "new_name")
LEVELS = {"tinh", "huyen", "xa"}


class UnitsFileError(ValueError):
    """The mapping file cannot be loaded; the message says which row and why."""


@dataclass
class MappingRow:
    old_code: str
    old_name: str
    old_level: str
    old_parent_code: str
    old_parent_name: str
    old_province: str
    new_code: str
    new_name: str
    effective_date: date | None
    basis: str
    confidence: str


@dataclass
class ImportResult:
    version_id: int
    rows: int
    old_units: int
    new_units: int
    districts: int
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)


def _parse_date(value: str, line: int) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnitsFileError(f"dòng {line}: effective_date '{value}' không phải ngày ISO (yyyy-mm-dd)") from None


def parse_mapping(data: bytes) -> list[MappingRow]:
    text = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UnitsFileError(f"thiếu cột: {', '.join(missing)}")
    rows: list[MappingRow] = []
    for line, raw in enumerate(reader, start=2):
        raw = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        level = raw.get("old_level", "").lower()
        if not raw["old_code"] or not raw["new_code"]:
            raise UnitsFileError(f"dòng {line}: old_code và new_code là bắt buộc")
        if level not in LEVELS:
            raise UnitsFileError(f"dòng {line}: old_level '{level}' phải là tinh, huyen hoặc xa")
        rows.append(
            MappingRow(
                old_code=raw["old_code"],
                old_name=raw["old_name"],
                old_level=level,
                old_parent_code=raw.get("old_parent_code", ""),
                old_parent_name=raw.get("old_parent_name", ""),
                old_province=raw.get("old_province", ""),
                new_code=raw["new_code"],
                new_name=raw["new_name"],
                effective_date=_parse_date(raw.get("effective_date", ""), line),
                basis=raw.get("basis", ""),
                confidence=raw.get("confidence", ""),
            )
        )
    if not rows:
        raise UnitsFileError("tệp không có dòng nào")
    return rows


def current_version_id(session: Session, on: date | None = None) -> int | None:
    """The mapping version in force on ``on`` (default today): the newest loaded one in effect."""
    on = on or date.today()
    stmt = (
        select(UnitMappingVersion.id)
        .where((UnitMappingVersion.effective_date.is_(None)) | (UnitMappingVersion.effective_date <= on))
        .order_by(UnitMappingVersion.id.desc())
        .limit(1)
    )
    found = session.scalar(stmt)
    if found is None:  # nothing in force yet: the earliest loaded version still decides
        found = session.scalar(select(UnitMappingVersion.id).order_by(UnitMappingVersion.id).limit(1))
    return found


def import_mapping(session: Session, path: Path, loaded_by: str = "") -> ImportResult:
    """Load a mapping file as a new version; loading identical bytes again changes nothing."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    rows = parse_mapping(data)
    latest = session.scalar(select(UnitMappingVersion).order_by(UnitMappingVersion.id.desc()).limit(1))
    if latest is not None and latest.sha256 == digest:
        return _summary(session, latest.id, unchanged=True)

    effective = min((r.effective_date for r in rows if r.effective_date), default=None)
    version = UnitMappingVersion(
        source_name=Path(path).name, sha256=digest, effective_date=effective,
        loaded_by=loaded_by, row_count=len(rows),
    )
    session.add(version)
    session.flush()
    seen_pairs: set[tuple[str, str]] = set()
    for row in rows:
        _upsert_old(session, row.old_code, row.old_name, row.old_level, row.old_parent_code, row.old_province)
        if row.old_parent_code:
            _upsert_old(session, row.old_parent_code, row.old_parent_name or row.old_parent_code, "huyen", "", row.old_province)
        new = session.get(NewUnit, row.new_code)
        if new is None:
            session.add(NewUnit(code=row.new_code, name=row.new_name))
        elif row.new_name:
            new.name = row.new_name
        if (row.old_code, row.new_code) in seen_pairs:
            continue
        seen_pairs.add((row.old_code, row.new_code))
        session.add(
            Succession(
                version_id=version.id, old_code=row.old_code, new_code=row.new_code,
                effective_date=row.effective_date, basis=row.basis, confidence=row.confidence,
            )
        )
        session.flush()
    return _summary(session, version.id)


def _upsert_old(session: Session, code: str, name: str, level: str, parent: str, province: str) -> None:
    unit = session.get(OldUnit, code)
    if unit is None:
        session.add(OldUnit(code=code, name=name, level=level, parent_code=parent, province=province))
        session.flush()
    else:
        unit.name = name or unit.name
        if level != "huyen" or unit.level != "xa":
            unit.level = level
        unit.parent_code = parent or unit.parent_code
        unit.province = province or unit.province


def _summary(session: Session, version_id: int, unchanged: bool = False) -> ImportResult:
    pairs = session.execute(
        select(Succession.old_code, Succession.new_code).where(Succession.version_id == version_id)
    ).all()
    olds = {o for o, _ in pairs}
    districts = session.scalar(
        select(func.count(func.distinct(OldUnit.parent_code))).where(OldUnit.code.in_(olds), OldUnit.parent_code != "")
    )
    return ImportResult(
        version_id=version_id, rows=len(pairs), old_units=len(olds),
        new_units=len({n for _, n in pairs}), districts=districts or 0, unchanged=unchanged,
    )
