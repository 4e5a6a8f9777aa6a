"""Live processes read from /proc, for the benchmarks that measure a process and its children."""

from __future__ import annotations

import os
from collections.abc import Iterator


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/<pid>/stat after the command name) of every live process.

    Field 0 is the state, 1 the parent pid, 2 the process group, 11/12 user/system clock ticks."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                yield int(entry), handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
