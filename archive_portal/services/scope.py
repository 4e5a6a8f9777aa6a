"""The one place that decides which old units an account may see.

A new unit sees the documents of every old unit mapped to it in the mapping
version in force, and of every old district that held one of those units
(contract section 6: a district's documents go to every new unit that took
over part of its territory).  Admins, archivists and auditors see all (None).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.db.models import Document, OldUnit, Succession

from .generation import GenerationCache
from .roles import SEE_EVERY_UNIT
from .units import current_version_id

ALL_UNITS = None
ROLES_SEEING_ALL = SEE_EVERY_UNIT


# A new unit's old units, per process, until the units mapping changes (services.generation) or the
# day does (a mapping version may come into force at midnight): every signed-in request asks.
_today_predecessors: GenerationCache[frozenset[str]] = GenerationCache(size=1024)


def predecessors(session: Session, new_unit_code: str, on: date | None = None) -> frozenset[str]:
    if on is None:
        today = date.today()
        return _today_predecessors.get(
            session, (new_unit_code, today), lambda: _predecessors(session, new_unit_code, today)
        )
    return _predecessors(session, new_unit_code, on)


def _predecessors(session: Session, new_unit_code: str, on: date) -> frozenset[str]:
    version = current_version_id(session, on)
    if version is None:
        return frozenset()
    olds = set(
        session.scalars(
            select(Succession.old_code).where(Succession.version_id == version, Succession.new_code == new_unit_code)
        )
    )
    if not olds:
        return frozenset()
    districts = set(
        session.scalars(select(OldUnit.parent_code).where(OldUnit.code.in_(olds), OldUnit.parent_code != ""))
    )
    return frozenset(olds | districts)


class Scope(frozenset):
    """Old unit codes an account may see, and whether it may see "Hạn chế" (restricted) documents.

    A plain frozenset (or any set made from one) carries no permission: restricted material
    stays hidden unless a Scope says otherwise (fails closed).  None (every unit) sees it all.
    """

    restricted_ok: bool

    def __new__(cls, codes=(), restricted_ok: bool = False) -> Scope:
        scope = super().__new__(cls, codes)
        scope.restricted_ok = restricted_ok
        return scope

    def __reduce__(self):
        return (Scope, (frozenset(self), self.restricted_ok))


def may_see_restricted(scope: frozenset[str] | None) -> bool:
    return scope is None or bool(getattr(scope, "restricted_ok", False))


class Readable(Protocol):
    """What ``may_read`` looks at: a ``Document``, or a row of these columns."""

    withheld: bool
    text_ready: bool
    unit_code: str
    restricted: bool


def may_read(document: Document | Readable, scope: frozenset[str] | None) -> bool:
    """The one test every document route applies: its text checked for a secrecy stamp and not withheld,
    in scope, and not restricted unless allowed.

    Until a document's files were read (``text_ready``: ``archive ingest --workers 0`` leaves that to
    ``archive worker``s, maybe hours later) nobody knows whether they carry a stamp: fail closed."""
    if document.withheld or not document.text_ready:
        return False
    if scope is not None and document.unit_code not in scope:
        return False
    return not document.restricted or may_see_restricted(scope)


def scope_for(
    session: Session, role: str, new_unit_code: str | None, restricted: bool = False
) -> frozenset[str] | None:
    """Old unit codes visible to an account; None means every unit; empty means none.

    ``restricted``: the account is allowed restricted material (``Account.may_see_restricted``).
    """
    if role in ROLES_SEEING_ALL:
        return ALL_UNITS
    if not new_unit_code:
        return Scope((), restricted)
    return Scope(predecessors(session, new_unit_code), restricted)
