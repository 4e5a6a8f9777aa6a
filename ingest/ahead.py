"""Extraction started while the package is still being stored and registered.

Until its files are registered, none is pending and the extraction pool
would wait; yet the text of a file depends on its bytes alone.  So each
stored original the pool can read is handed to it at once, keyed by its
SHA-256, and the extraction loop, when it claims a file with those bytes,
takes the running (or finished) extraction instead of submitting it again:
the pool's processes read while the main process hashes, stores and
registers.  Nothing is saved here: a result goes through the loop's claim
and its compare-and-set like any other, so a file no claim asks for (a
withheld or duplicate document's, one another worker claimed) is dropped.

At most ``limit`` files are held ahead, so a package of scans, whose files
take seconds each, does not queue thousands of OCR jobs ahead of the claims.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from pathlib import Path

from .extract import ExtractLimits
from .extract.job import extract_job

AHEAD_PER_PROCESS = 128  # files started ahead per pool process at most


class ExtractAhead:
    """Extractions started before their files are claimed, by SHA-256 (thread-safe)."""

    def __init__(self, executor: cf.Executor, limits: ExtractLimits, limit: int):
        self.executor = executor
        self.limits = limits
        self.limit = limit
        self._futures: dict[str, cf.Future] = {}
        self._started = 0
        self._lock = threading.Lock()

    def start(self, sha256: str, path: Path, metadata: bool = True) -> None:
        """Have the pool read the stored original ``path`` (whose bytes hash to ``sha256``) now;
        ``metadata``: with its first page's layout and the metadata reader (``extract.job``)."""
        with self._lock:
            if self._started >= self.limit or sha256 in self._futures:
                return
            self._started += 1
            try:
                self._futures[sha256] = self.executor.submit(extract_job, str(path), self.limits, metadata)
            except (cf.BrokenExecutor, RuntimeError):  # a broken or closed pool: the loop extracts it itself
                self._started = self.limit

    def take(self, sha256: str) -> cf.Future | None:
        """The extraction of these bytes started ahead, once (None if there is none)."""
        with self._lock:
            return self._futures.pop(sha256, None)

    def close(self) -> None:
        """Drop what no claim took: those not started are cancelled."""
        with self._lock:
            for future in self._futures.values():
                future.cancel()
            self._futures.clear()
            self._started = self.limit
