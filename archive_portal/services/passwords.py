"""Password hashes (argon2id with argon2-cffi's defaults), a few at a time in each process.

A check or a new hash holds 64 MB (the memory cost that makes guessing dear) and keeps the cores
busy for ~0.2 s.  Unbounded, every request thread of a worker could check at once: the sign-ins
at the start of a load test (a commune's morning) lifted the workers' heap by ~0.5 GB (8 threads
x 64 MB) for the seconds they lasted.  At most ``AT_ONCE`` (one per core) run at once in a
process, the others wait their turn: two at once already give the most checks a second on two
cores (measured: 4.7/s one at a time, 6.2/s two, 6.1/s four, 5.7/s eight).
"""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

AT_ONCE = max(1, os.cpu_count() or 1)
_hasher = PasswordHasher()
_turns = threading.BoundedSemaphore(AT_ONCE)


def hash_password(password: str) -> str:
    with _turns:
        return _hasher.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (False for a damaged hash too)."""
    with _turns:
        try:
            return bool(_hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's (then hashed again at sign-in)."""
    return bool(_hasher.check_needs_rehash(stored))
