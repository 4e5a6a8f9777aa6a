"""Processes of this machine: whether one that left work behind is still running; how this one allocates."""

from __future__ import annotations

import ctypes
import os

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def process_alive(pid: int) -> bool:
    """True while a process with this id exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process; call it before the process starts any thread.

    An ingest's threads (file copiers, the search writer's indexing and merging threads, new for
    each turn at the index) each took a glibc arena of their own (up to 8 per core) and kept their
    freed memory there: the heap of ``archive ingest`` grew ~8 MB per 1,000 documents indexed
    (131 -> 208 MB over 10,000 documents, Tantivy); with two arenas it levels off after the first
    turns (130 -> 168 MB, then flat; ``bench.memory_bench --many``).  glibc fixes the limit when a
    second thread first allocates, so later calls change nothing.  ``MALLOC_ARENA_MAX`` in the
    environment wins.  False where the C library is not glibc."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(ctypes.c_int(_M_ARENA_MAX), ctypes.c_int(arenas)))
    except (OSError, AttributeError):
        return False
