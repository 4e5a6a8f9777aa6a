"""Is the archive able to serve: database, store of originals and search index reachable, programs installed."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive_core import programs
from archive_core.context import Archive

PROGRAMS_RECHECK_SECONDS = 60.0  # a monitor polls often; installed programs change rarely
_programs_seen: dict[str, tuple[float, list[programs.ProgramStatus]]] = {}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    ms: float
    error: str = ""  # the kind of failure only (the page is public): no paths, no messages


def _timed(name: str, probe) -> Check:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure of the part is the answer, not a crash
        return Check(name, False, round((time.perf_counter() - started) * 1000, 1), type(exc).__name__)
    return Check(name, True, round((time.perf_counter() - started) * 1000, 1))


def _database(session: Session) -> None:
    try:
        session.execute(text("SELECT 1")).scalar_one()
    except Exception:
        session.rollback()  # the caller's session stays usable (and commits nothing broken)
        raise


def _store(archive: Archive) -> None:
    store = archive.settings.store_dir
    if not store.is_dir():
        raise FileNotFoundError("store")
    if not os.access(store, os.R_OK | os.X_OK):
        raise PermissionError("store")
    with os.scandir(store) as entries:
        next(entries, None)


def _index(archive: Archive) -> None:
    archive.engine.count(None)


def _programs(archive: Archive) -> Check:
    """The external programs the configuration needs; the error names the missing ones (no paths)."""
    started = time.perf_counter()
    key = f"{archive.settings.ocr_languages}|{archive.settings.database_url.split(':', 1)[0]}|{os.environ.get('PATH', '')}"
    seen = _programs_seen.get(key)
    if seen is None or time.monotonic() - seen[0] > PROGRAMS_RECHECK_SECONDS:
        seen = (time.monotonic(), programs.check(archive.settings))
        _programs_seen[key] = seen
    missing = [status.program for status in seen[1] if not status.ok]
    ms = round((time.perf_counter() - started) * 1000, 1)
    return Check("programs", not missing, ms, f"missing: {', '.join(missing)}" if missing else "")


def check_health(session: Session, archive: Archive) -> list[Check]:
    return [
        _timed("database", lambda: _database(session)),
        _timed("store", lambda: _store(archive)),
        _timed("index", lambda: _index(archive)),
        _programs(archive),
    ]
