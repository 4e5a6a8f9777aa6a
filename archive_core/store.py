"""The store of originals: each file kept byte for byte under its SHA-256.

Writes go to a temporary file in the store and are renamed into place after
the hash is known, so a killed worker never leaves a half-written original
under a real name; putting the same bytes twice stores them once.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .processes import process_alive

CHUNK = 1024 * 1024
# Temp files are named "<pid>-<host tag>-…": a store shared by several machines is cleaned by
# each of its own leftovers only (another machine's pid means nothing here), or after a day.
HOST_TAG = "h" + hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
FOREIGN_LEFTOVER_SECONDS = 24 * 3600


def blob_path(store_dir: Path, sha256: str) -> Path:
    return Path(store_dir) / sha256[:2] / sha256[2:4] / sha256


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    path: Path
    new: bool


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return blob_path(self.root, sha256)

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, source: Path) -> StoredBlob:
        """Copy ``source`` into the store while hashing it; return where it lives."""
        tmp_dir = self.root / ".incoming"
        tmp_dir.mkdir(exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix=f"{os.getpid()}-{HOST_TAG}-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path(sha)
            if target.exists():
                os.unlink(tmp_name)
                return StoredBlob(sha, size, target, new=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp_name, 0o444)
            os.replace(tmp_name, target)
            return StoredBlob(sha, size, target, new=True)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def clean_incoming(self) -> int:
        """Remove temporary files left by writers that are no longer running; returns how many."""
        tmp_dir = self.root / ".incoming"
        removed = 0
        if tmp_dir.exists():
            for leftover in tmp_dir.iterdir():
                pid, _, rest = leftover.name.partition("-")
                tag = rest.split("-", 1)[0] if "-" in rest else HOST_TAG
                if tag != HOST_TAG:
                    try:
                        if time.time() - leftover.stat().st_mtime < FOREIGN_LEFTOVER_SECONDS:
                            continue
                    except FileNotFoundError:
                        continue
                elif pid.isdigit() and _alive(int(pid)):
                    continue
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process has nothing in flight when it cleans
    return process_alive(pid)
