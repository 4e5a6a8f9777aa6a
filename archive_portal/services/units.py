"""Loading the old-to-new units mapping (contract section 6), keeping every version."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_core.db.models import NewUnit, OldUnit, Succession, UnitMappingVersion
from archive_core.errors import UserError

from .generation import GenerationCache

REQUIRED_COLUMNS = ("old_code", "old_name", "old_level", "new_code", "new_name")
LEVELS = {"tinh", "huyen", "xa"}


class UnitsFileError(UserError):
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


def import_mapping(session: Session, path: Path, loaded_by: str = "", source_name: str | None = None) -> ImportResult:
    """Load a mapping file as a new version; loading identical bytes again changes nothing."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    rows = parse_mapping(data)
    latest = session.scalar(select(UnitMappingVersion).order_by(UnitMappingVersion.id.desc()).limit(1))
    if latest is not None and latest.sha256 == digest:
        return _summary(session, latest.id, unchanged=True)

    effective = min((r.effective_date for r in rows if r.effective_date), default=None)
    version = UnitMappingVersion(
        source_name=(source_name or Path(path).name)[:500],
        sha256=digest,
        effective_date=effective,
        loaded_by=loaded_by,
        row_count=len(rows),
    )
    session.add(version)
    session.flush()
    seen_pairs: set[tuple[str, str]] = set()
    for row in rows:
        _upsert_old(session, row.old_code, row.old_name, row.old_level, row.old_parent_code, row.old_province)
        if row.old_parent_code:
            _upsert_old(
                session, row.old_parent_code, row.old_parent_name or row.old_parent_code, "huyen", "", row.old_province
            )
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
                version_id=version.id,
                old_code=row.old_code,
                new_code=row.new_code,
                effective_date=row.effective_date,
                basis=row.basis,
                confidence=row.confidence,
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
        version_id=version_id,
        rows=len(pairs),
        old_units=len(olds),
        new_units=len({n for _, n in pairs}),
        districts=districts or 0,
        unchanged=unchanged,
    )


# -- versions, what is in force, and what a new file would change -----------------------------
@dataclass(frozen=True)
class VersionView:
    id: int
    source_name: str
    sha256: str
    effective_date: date | None
    loaded_at: datetime
    loaded_by: str
    row_count: int
    pairs: int
    in_force: bool


def list_versions(session: Session) -> list[VersionView]:
    """Every mapping version ever loaded, newest first, the one in force marked."""
    in_force = current_version_id(session)
    pairs = dict(session.execute(select(Succession.version_id, func.count()).group_by(Succession.version_id)).all())
    return [
        VersionView(
            id=v.id,
            source_name=v.source_name,
            sha256=v.sha256,
            effective_date=v.effective_date,
            loaded_at=v.loaded_at,
            loaded_by=v.loaded_by or "",
            row_count=v.row_count,
            pairs=pairs.get(v.id, 0),
            in_force=v.id == in_force,
        )
        for v in session.scalars(select(UnitMappingVersion).order_by(UnitMappingVersion.id.desc()))
    ]


@dataclass(frozen=True)
class PredecessorLine:
    code: str
    name: str
    level: str
    via_district: bool  # seen because it is the old district of a mapped unit
    basis: str  # the resolution clause behind the pair ('' for a district)
    effective_date: date | None
    confidence: str


@dataclass(frozen=True)
class NewUnitLines:
    code: str
    name: str
    predecessors: list[PredecessorLine]


def successions_in_force(session: Session, version_id: int | None = None) -> list[NewUnitLines]:
    """Each new unit of a version (default: in force) with the old units it sees and why."""
    version_id = version_id if version_id is not None else current_version_id(session)
    if version_id is None:
        return []
    olds = {u.code: u for u in session.scalars(select(OldUnit))}
    news = dict(session.execute(select(NewUnit.code, NewUnit.name)).all())
    per_new: dict[str, list[Succession]] = {}
    for row in session.scalars(select(Succession).where(Succession.version_id == version_id)):
        per_new.setdefault(row.new_code, []).append(row)
    result = []
    for new_code, rows in per_new.items():
        lines = []
        mapped = {r.old_code for r in rows}
        for r in rows:
            old = olds.get(r.old_code)
            lines.append(
                PredecessorLine(
                    r.old_code,
                    old.name if old else r.old_code,
                    old.level if old else "",
                    False,
                    r.basis,
                    r.effective_date,
                    r.confidence,
                )
            )
        for district in sorted({olds[c].parent_code for c in mapped if c in olds and olds[c].parent_code} - mapped):
            old = olds.get(district)
            lines.append(
                PredecessorLine(
                    district, old.name if old else district, old.level if old else "huyen", True, "", None, ""
                )
            )
        lines.sort(key=lambda line: (line.via_district, line.name))
        result.append(NewUnitLines(new_code, news.get(new_code, new_code), lines))
    result.sort(key=lambda unit: unit.name)
    return result


@dataclass(frozen=True)
class ScopeChange:
    new_code: str
    new_name: str
    gained: list[str]  # old unit codes the new unit would start to see
    lost: list[str]  # old unit codes it would stop seeing


@dataclass(frozen=True)
class MappingDiff:
    sha256: str
    rows: int
    effective_date: date | None
    against_version: int | None
    unchanged: bool  # the very file of the latest version
    added: list[tuple[str, str]]  # (old, new) pairs only in the file
    removed: list[tuple[str, str]]  # pairs only in the version in force
    moved: list[tuple[str, list[str], list[str]]]  # old unit, new units before, new units after
    new_units: list[tuple[str, str]]  # new units the version in force does not have
    dropped_units: list[tuple[str, str]]  # new units of the version in force the file does not have
    scope_changes: list[ScopeChange]
    names: dict[str, str]  # code -> name, old and new units, for display

    @property
    def changes(self) -> bool:
        return bool(self.added or self.removed)


def _scopes(pairs: Iterable[tuple[str, str]], parents: dict[str, str]) -> dict[str, set[str]]:
    """Scope of each new unit as ``services.scope.predecessors`` computes it: mapped units and their districts."""
    scopes: dict[str, set[str]] = {}
    for old, new in pairs:
        scope = scopes.setdefault(new, set())
        scope.add(old)
        if parents.get(old):
            scope.add(parents[old])
    return scopes


def diff_mapping(session: Session, data: bytes) -> MappingDiff:
    """What loading ``data`` as a new version would change against the version in force (nothing is written)."""
    rows = parse_mapping(data)
    digest = hashlib.sha256(data).hexdigest()
    latest = session.scalar(select(UnitMappingVersion).order_by(UnitMappingVersion.id.desc()).limit(1))
    version_id = current_version_id(session)
    before = (
        set(
            session.execute(
                select(Succession.old_code, Succession.new_code).where(Succession.version_id == version_id)
            ).all()
        )
        if version_id is not None
        else set()
    )
    after = {(r.old_code, r.new_code) for r in rows}

    names: dict[str, str] = {}
    parents_now: dict[str, str] = {}
    for unit in session.scalars(select(OldUnit)):
        names[unit.code] = unit.name
        parents_now[unit.code] = unit.parent_code
    new_names = dict(session.execute(select(NewUnit.code, NewUnit.name)).all())
    parents_file = dict(parents_now)
    for r in rows:
        names[r.old_code] = r.old_name or names.get(r.old_code, r.old_code)
        if r.old_parent_code:
            parents_file[r.old_code] = r.old_parent_code
            names.setdefault(r.old_parent_code, r.old_parent_name or r.old_parent_code)
        new_names[r.new_code] = r.new_name or new_names.get(r.new_code, r.new_code)
    names.update({f"new:{code}": name for code, name in new_names.items()})

    def news_of(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for old, new in pairs:
            out.setdefault(old, set()).add(new)
        return out

    was, will = news_of(before), news_of(after)
    moved = [
        (old, sorted(was[old]), sorted(will[old])) for old in sorted(set(was) & set(will)) if was[old] != will[old]
    ]
    news_before = {n for _, n in before}
    news_after = {n for _, n in after}
    scopes_before, scopes_after = _scopes(before, parents_now), _scopes(after, parents_file)
    scope_changes = []
    for new in sorted(news_before | news_after, key=lambda c: new_names.get(c, c)):
        b, a = scopes_before.get(new, set()), scopes_after.get(new, set())
        if a != b:
            scope_changes.append(ScopeChange(new, new_names.get(new, new), sorted(a - b), sorted(b - a)))
    return MappingDiff(
        sha256=digest,
        rows=len(rows),
        effective_date=min((r.effective_date for r in rows if r.effective_date), default=None),
        against_version=version_id,
        unchanged=latest is not None and latest.sha256 == digest,
        added=sorted(after - before),
        removed=sorted(before - after),
        moved=moved,
        new_units=sorted((n, new_names.get(n, n)) for n in news_after - news_before),
        dropped_units=sorted((n, new_names.get(n, n)) for n in news_before - news_after),
        scope_changes=scope_changes,
        names=names,
    )


# Every new unit's name, per process until the units change (services.generation): each signed-in
# request shows its own unit's.
_new_unit_names: GenerationCache[dict[str, str]] = GenerationCache(size=4)


def new_unit_name(session: Session, code: str | None) -> str:
    """The name of the new unit ``code``; "" when there is no code or no such unit."""
    if not code:
        return ""
    names = _new_unit_names.get(
        session,
        "new_unit_names",
        lambda: {code: name for code, name in session.execute(select(NewUnit.code, NewUnit.name))},
    )
    return names.get(code, "")


def new_unit_names(session: Session) -> dict[str, str]:
    """Code → name of every new unit, ordered by name (the accounts pages' choices and labels)."""
    return {unit.code: unit.name for unit in session.scalars(select(NewUnit).order_by(NewUnit.name))}


@dataclass(frozen=True)
class NewUnitRef:
    code: str
    name: str


def find_new_unit(session: Session, code: str | None) -> NewUnitRef | None:
    """One new unit by code; None when there is no code or no such unit."""
    unit = session.get(NewUnit, code) if code else None
    return NewUnitRef(unit.code, unit.name) if unit else None
