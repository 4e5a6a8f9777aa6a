"""The one place that decides which old units an account may see.

A new unit sees the documents of every old unit mapped to it in the mapping
version in force, and of every old district that held one of those units
(contract section 6: a district's documents go to every new unit that took
over part of its territory).  Admins, archivists and auditors see all (None).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.db.models import OldUnit, Succession
from .units import current_version_id

ALL_UNITS = None
ROLES_SEEING_ALL = {"admin", "archivist", "auditor"}


def predecessors(session: Session, new_unit_code: str, on: date | None = None) -> frozenset[str]:
    version = current_version_id(session, on)
    if version is None:
        return frozenset()
    olds = set(
        session.scalars(
            select(Succession.old_code).where(
                Succession.version_id == version, Succession.new_code == new_unit_code
            )
        )
    )
    if not olds:
        return frozenset()
    districts = set(
        session.scalars(select(OldUnit.parent_code).where(OldUnit.code.in_(olds), OldUnit.parent_code != ""))
    )
    return frozenset(olds | districts)


def scope_for(session: Session, role: str, new_unit_code: str | None) -> frozenset[str] | None:
    """Old unit codes visible to an account; None means every unit; empty means none."""
    if role in ROLES_SEEING_ALL:
        return ALL_UNITS
    if not new_unit_code:
        return frozenset()
    return predecessors(session, new_unit_code)
