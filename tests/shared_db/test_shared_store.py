"""A store shared by several machines: one machine's cleanup never removes another's file in flight."""
from __future__ import annotations

import os
import subprocess
import sys

from archive_core.store import HOST_TAG, BlobStore


def test_cleanup_keeps_other_machines_files_in_flight_and_removes_own_dead_leftovers(tmp_path):
    store = BlobStore(tmp_path / "store")
    incoming = store.root / ".incoming"
    incoming.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    mine_dead = incoming / f"{dead_pid}-{HOST_TAG}-abc"
    other_machine = incoming / f"{dead_pid}-hdeadbeef-abc"  # that pid is alive over there, for all we know
    legacy = incoming / f"{dead_pid}-xyz"
    for path in (mine_dead, other_machine, legacy):
        path.write_bytes(b"half-written")
    assert store.clean_incoming() == 2
    assert sorted(p.name for p in incoming.iterdir()) == [other_machine.name]
    old = os.stat(other_machine).st_mtime - 2 * 24 * 3600
    os.utime(other_machine, (old, old))  # a day later it is a leftover of a crash over there
    assert store.clean_incoming() == 1 and not list(incoming.iterdir())
    blob = store.put(_file(tmp_path))
    assert blob.path.read_bytes() == b"noi dung" and not list(incoming.iterdir())


def _file(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"noi dung")
    return path
