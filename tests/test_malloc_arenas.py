"""``archive`` commands cap glibc's malloc arenas before it starts a thread (an ingest's heap stays flat)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import threading
from archive_core.processes import cap_malloc_arenas
first = cap_malloc_arenas()
print(first, threading.active_count())
"""


def _probe(env_extra: dict[str, str]) -> str:
    import os

    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env_extra
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def test_the_cap_is_taken_by_glibc_in_a_fresh_process():
    assert _probe({}) == "True 1"


def test_an_operator_s_malloc_arena_max_wins():
    assert _probe({"MALLOC_ARENA_MAX": "4"}) == "False 1"
