"""Tampering with the audit trail as someone with write access to the archive's database would: through the
archive's own connection (the SQLAlchemy engine of ``archive.db``), so the same tamper runs on SQLite and on
PostgreSQL.  The append-only guard of migration 0003 (triggers) goes first; the hash chain must still tell."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, text, update

from archive_core.context import Archive
from archive_core.db.models import AuditEvent

GENESIS = "0" * 64
EVENTS = AuditEvent.__table__
# The guard of each database (archive_core/migrations/versions/0003_audit.py).
GUARD = {"sqlite": ("DROP TRIGGER IF EXISTS audit_event_no_update", "DROP TRIGGER IF EXISTS audit_event_no_delete"),
         "postgresql": ("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",)}


def sql(archive: Archive, statement: str, **params) -> None:
    """Run one statement in a transaction of its own on the archive's database."""
    with archive.db.engine.begin() as connection:
        connection.execute(text(statement), params)


def drop_guard(archive: Archive) -> Archive:
    """Drop the triggers that refuse UPDATE and DELETE on ``audit_event``."""
    for statement in GUARD[archive.db.engine.dialect.name]:
        sql(archive, statement)
    return archive


def edit(archive: Archive, record_id: int, **values) -> None:
    """Change fields of one record (typed: ``details`` a dict, stored as each database stores JSON)."""
    with archive.db.engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == record_id).values(**values))


def renumber_after(archive: Archive, gone: int) -> None:
    """Close the gap a deleted record left: every later record moves down by one (in id order)."""
    with archive.db.engine.begin() as connection:
        later = connection.scalars(select(EVENTS.c.id).where(EVENTS.c.id > gone).order_by(EVENTS.c.id)).all()
        for rid in later:
            connection.execute(update(EVENTS).where(EVENTS.c.id == rid).values(id=rid - 1))


def rehash_from(archive: Archive, first_id: int) -> None:
    """Recompute the chain as code without the key would (plain SHA-256), from ``first_id`` on."""
    with archive.db.engine.begin() as connection:
        rows = connection.execute(select(EVENTS).order_by(EVENTS.c.id)).mappings().all()
        prev = GENESIS
        for row in rows:
            if row["id"] < first_id:
                prev = row["hash"]
                continue
            payload = {"id": row["id"], "at": row["at"].isoformat(timespec="microseconds"), "action": row["action"],
                       "username": row["username"], "new_unit_code": row["new_unit_code"],
                       "client_address": row["client_address"], "target": row["target"],
                       "details": row["details"], "prev_hash": prev}
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                               default=str).encode()).hexdigest()
            connection.execute(update(EVENTS).where(EVENTS.c.id == row["id"]).values(prev_hash=prev, hash=digest))
            prev = digest
