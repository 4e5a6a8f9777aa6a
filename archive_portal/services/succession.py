"""The new units and the old units they succeeded, as an account may see them.

An account that sees every unit sees every new unit; a lookup account sees
its own new unit only.  The predecessors listed are exactly the account scope
of that new unit (``services.scope.predecessors``): the old units mapped to it
in the mapping version in force, and the old districts that held them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.db.models import NewUnit, OldUnit, Succession, UnitMappingVersion

from .scope import predecessors
from .units import current_version_id


@dataclass(frozen=True)
class Predecessor:
    code: str
    name: str
    level: str
    parent_code: str
    via: str  # "mapping": a row of the mapping; "district": the old district of such a unit
    basis: str
    effective_date: date | None
    confidence: str


@dataclass(frozen=True)
class NewUnitView:
    code: str
    name: str
    predecessors: list[Predecessor]


@dataclass(frozen=True)
class MappingVersion:
    id: int
    source_name: str
    effective_date: date | None
    loaded_at: datetime


def _visible_codes(session: Session, sees_all: bool, own_code: str | None) -> list[str]:
    if sees_all:
        return list(session.scalars(select(NewUnit.code).order_by(NewUnit.code)))
    return [own_code] if own_code else []


def _view(session: Session, unit: NewUnit, version_id: int | None) -> NewUnitView:
    codes = predecessors(session, unit.code)
    rows = {}
    if version_id is not None and codes:
        rows = {
            s.old_code: s
            for s in session.scalars(
                select(Succession).where(Succession.version_id == version_id, Succession.new_code == unit.code)
            )
        }
    olds = {o.code: o for o in session.scalars(select(OldUnit).where(OldUnit.code.in_(list(codes))))} if codes else {}
    out = []
    for code in codes:
        old, row = olds.get(code), rows.get(code)
        out.append(
            Predecessor(
                code=code,
                name=old.name if old else code,
                level=old.level if old else "",
                parent_code=old.parent_code if old else "",
                via="mapping" if row is not None else "district",
                basis=row.basis if row is not None else "",
                effective_date=row.effective_date if row is not None else None,
                confidence=row.confidence if row is not None else "",
            )
        )
    out.sort(key=lambda p: (p.via != "district", p.level, p.name))
    return NewUnitView(code=unit.code, name=unit.name, predecessors=out)


def mapping_in_force(session: Session) -> MappingVersion | None:
    version_id = current_version_id(session)
    version = session.get(UnitMappingVersion, version_id) if version_id is not None else None
    if version is None:
        return None
    return MappingVersion(version.id, version.source_name, version.effective_date, version.loaded_at)


def list_new_units(
    session: Session, *, sees_all: bool, own_code: str | None
) -> tuple[MappingVersion | None, list[NewUnitView]]:
    """The mapping version in force and the new units the account may see, by code."""
    version = mapping_in_force(session)
    version_id = version.id if version else None
    units = []
    for code in _visible_codes(session, sees_all, own_code):
        unit = session.get(NewUnit, code)
        if unit is not None:
            units.append(_view(session, unit, version_id))
    return version, units


def get_new_unit(session: Session, code: str, *, sees_all: bool, own_code: str | None) -> NewUnitView | None:
    """One new unit and its predecessors, or None (unknown, or not the account's)."""
    if not sees_all and code != own_code:
        return None
    unit = session.get(NewUnit, code)
    if unit is None:
        return None
    version = mapping_in_force(session)
    return _view(session, unit, version.id if version else None)
