"""The in-process store of the rate limits, safe between a gunicorn worker's threads.

limits' ``MemoryStorage`` (5.8) sweeps expired keys from a ``threading.Timer`` it starts whenever
none is alive.  Two request threads can both find none and start the same Timer object twice
(limits pull request 352, in no release here): "threads can only be started once" in one request,
a thread bootstrapped twice in the log; and a sweep meets keys a request thread expired meanwhile
(``KeyError`` in the timer thread, the rest of the sweep lost).  ``memory://`` in
``ARCHIVE_RATELIMIT_STORAGE_URI`` means this store: the same counts, a lock around the timer's start,
and a sweep that takes a key already gone as swept.
"""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage

SCHEME = "locked-memory"


class LockedMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions, **options)

    # MemoryStorage's private methods, by their mangled names: its own calls reach these.
    def _MemoryStorage__schedule_expiry(self) -> None:
        with self._timer_lock:
            super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]

    def _MemoryStorage__expire_events(self) -> None:
        try:
            super()._MemoryStorage__expire_events()  # type: ignore[misc]
        except KeyError:  # a request expired or cleared that key first; the next sweep takes the rest
            pass


def storage_uri(configured: str) -> str:
    """The store Flask-Limiter is given for ``ARCHIVE_RATELIMIT_STORAGE_URI``."""
    return f"{SCHEME}://" if configured.strip() == "memory://" else configured
