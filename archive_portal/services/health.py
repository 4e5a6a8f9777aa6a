"""Is the archive able to serve: database, store of originals and search index reachable."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from sqlalchemy import text

from archive_core.context import Archive


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


def _database(archive: Archive) -> None:
    with archive.db.session() as session:
        session.execute(text("SELECT 1")).scalar_one()


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


def check_health(archive: Archive) -> list[Check]:
    return [
        _timed("database", lambda: _database(archive)),
        _timed("store", lambda: _store(archive)),
        _timed("index", lambda: _index(archive)),
    ]
