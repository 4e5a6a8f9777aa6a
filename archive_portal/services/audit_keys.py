"""The audit trail's secret and its signed checkpoints: two files kept outside the database.

Whoever can write the database could delete records and re-hash the rest; with
a key they cannot read (``ARCHIVE_AUDIT_KEY_FILE``, default ``$ARCHIVE_HOME/audit.key``,
mode 0600, generated at first use, never copied by ``archive backup``) every
record's hash is an HMAC, which they cannot recompute. Deleting the *newest*
records leaves a valid chain, so every committed record also leaves a checkpoint
line -- its id and hash, signed with the key -- in a file outside the database
(``ARCHIVE_AUDIT_CHECKPOINT_FILE``); ``verify`` finds each checkpointed record intact.

Records written before the key existed keep their plain SHA-256 hashes: the key
file names the last of them (``legacy_until``) and a checkpoint pins its hash,
so that older stretch can be neither rewritten nor extended.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEY_VERSION = 1
_cache: dict[Path, AuditKey] = {}
_cache_lock = threading.Lock()


class AuditKeyError(RuntimeError):
    """The key file exists but cannot be read or is malformed: nothing is written or trusted."""


@dataclass(frozen=True)
class AuditKey:
    secret: bytes
    legacy_until: int  # records up to this id were written before the key (plain SHA-256)

    def mac(self, payload: bytes) -> str:
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()

    def checkpoint_mac(self, record_id: int, record_hash: str) -> str:
        return self.mac(f"checkpoint:{record_id}:{record_hash}".encode())


def _parse(path: Path) -> AuditKey:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AuditKey(secret=bytes.fromhex(data["key"]), legacy_until=int(data["legacy_until"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AuditKeyError(f"khóa nhật ký {path} không đọc được: {error}") from error


def load_key(path: Path) -> AuditKey | None:
    """The key in ``path``; None if there is no key file yet."""
    with _cache_lock:
        if path in _cache:
            return _cache[path]
        if not path.exists():
            return None
        key = _parse(path)
        _cache[path] = key
        return key


def create_key(path: Path, legacy_until: int) -> tuple[AuditKey, bool]:
    """The key, made now if there is none (the caller holds the chain's lock); whether it is new."""
    existing = load_key(path)
    if existing is not None:
        return existing, False
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"version": KEY_VERSION, "key": secrets.token_hex(32), "legacy_until": legacy_until})
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        key = load_key(path)
        assert key is not None
        return key, False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    key = _parse(path)
    with _cache_lock:
        _cache[path] = key
    return key, True


def append_checkpoints(path: Path, key: AuditKey, records: list[tuple[int, str]]) -> None:
    """One signed line per committed record (O_APPEND: lines of several processes do not mix)."""
    if not records:
        return
    lines = "".join(
        json.dumps({"id": rid, "hash": rhash, "mac": key.checkpoint_mac(rid, rhash)}, separators=(",", ":")) + "\n"
        for rid, rhash in records
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, lines.encode())
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Checkpoint:
    line: int
    id: int
    hash: str
    signed: bool  # the MAC is right


def read_checkpoints(path: Path, key: AuditKey) -> list[Checkpoint]:
    """Every line of the checkpoint file (a line that is not a checkpoint counts as unsigned)."""
    if not path.exists():
        return []
    found: list[Checkpoint] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data: Any = json.loads(text)
                rid, rhash, mac = int(data["id"]), str(data["hash"]), str(data["mac"])
            except (ValueError, KeyError, TypeError):
                found.append(Checkpoint(number, 0, "", False))
                continue
            found.append(Checkpoint(number, rid, rhash, hmac.compare_digest(mac, key.checkpoint_mac(rid, rhash))))
    return found
