"""What the portal keeps per process between requests, valid while the database's change counter stays put.

The counter (``change_generation``, migrations 0013-0014) is bumped by triggers of the database
itself whenever a document is added or removed, a document's ``withheld``, ``doc_type`` or
``unit_code`` changes, or the units mapping changes (old and new units, successions, versions),
whoever writes: the portal, ingest, a worker, a CLI, SQL by hand.  A cache entry is keyed by the
database, the counter's random token and value, and what the caller adds (a scope, a unit, a
date); the counter is read before the value is computed, so an entry is never older than its
key.  Entries also expire after ``seconds`` (a backstop: a restored backup with the same counter
value), and the least recently used go first beyond ``size``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from archive_core.db.models import ChangeGeneration

T = TypeVar("T")
_READ = "change_generation"  # session.info key: the counter as this transaction last read it


def current(session: Session) -> tuple[str, str, int] | None:
    """(database, token, value) of the change counter as this session sees it now; None without one.

    Read once per transaction and again after each write through the session (a flush or a statement
    of ``session.execute``; not one on ``session.connection()``) (one primary-key row, but
    through the ORM it cost a search request 4 reads of ~0.2 ms): a session that wrote sees its own
    move (SQLite sets a random value at once, a value a rollback never brings back; PostgreSQL moves
    it at commit).  Another process's commit later in the same transaction is seen by the next one:
    an entry is then keyed by the older value, holding data at least as new as its key."""
    if _READ in session.info:
        return session.info[_READ]
    row = session.execute(
        select(ChangeGeneration.token, ChangeGeneration.value).where(ChangeGeneration.name == "documents")
    ).first()
    value = None if row is None else (str(session.get_bind().engine.url), row[0], row[1])
    session.info[_READ] = value
    return value


def _forget(session: Session, *_args: object) -> None:
    session.info.pop(_READ, None)


def _forget_after_a_write(state: ORMExecuteState) -> None:
    if not state.is_select:  # insert/update/delete through session.execute: the counter may move
        _forget(state.session)


event.listen(Session, "after_flush", _forget)
event.listen(Session, "after_transaction_end", _forget)
event.listen(Session, "do_orm_execute", _forget_after_a_write)


class GenerationCache(Generic[T]):
    """Values computed from the database, kept while its change counter stays put."""

    def __init__(self, size: int = 512, seconds: float = 300.0) -> None:
        self.size = size
        self.seconds = seconds
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The value kept for ``key`` at the counter's current value, else ``compute()`` kept."""
        generation = current(session)
        if generation is None:  # a database without the counter: nothing can be kept
            return compute()
        full = (generation, key)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(full)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(full)
                return entry[1]
        value = compute()
        with self._lock:
            self._entries[full] = (now + self.seconds, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
