"""The password policy: one function, used by every place that sets a password.

A password is at least 10 characters, does not contain the username, is not
one of the common passwords, and mixes character classes (three of: lower
case, upper case, digits, other; two are enough from 16 characters on, so
long passphrases pass).  Messages are Vietnamese, for the person typing.
"""

from __future__ import annotations

import secrets

MIN_LENGTH = 10
MAX_LENGTH = 1024
PASSPHRASE_LENGTH = 16

COMMON_PASSWORDS = frozenset(
    {
        "123456789",
        "1234567890",
        "12345678910",
        "0123456789",
        "1234567890a",
        "123456789a",
        "password",
        "password1",
        "password12",
        "password123",
        "password@123",
        "p@ssw0rd",
        "p@ssword1",
        "qwertyuiop",
        "qwerty123",
        "qwerty1234",
        "1qaz2wsx3edc",
        "1q2w3e4r5t",
        "abc123456",
        "abcd1234",
        "iloveyou",
        "iloveyou1",
        "admin123",
        "admin@123",
        "administrator",
        "welcome123",
        "letmein123",
        "matkhau",
        "matkhau123",
        "matkhau@123",
        "matkhau1234",
        "mat-khau-123",
        "anhyeuem",
        "anhyeuem123",
        "emyeuanh",
        "vietnam123",
        "vietnam@123",
        "hanoi123",
        "saigon123",
        "hungyen123",
        "hungyen@123",
        "ubnd123456",
        "ubnd@123",
        "vanthu123",
        "vanthu@123",
        "luutru123",
        "tracuu123",
        "tracuu@123",
        "12345678@a",
        "a123456789",
        "aa123456789",
        "changeme123",
        "doimatkhau",
        "doimatkhau123",
    }
)

_AMBIGUOUS = set("0O1lI")
_ALPHABET = "".join(c for c in "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789" if c not in _AMBIGUOUS)


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def password_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with ``password`` for ``username``, in Vietnamese; empty when it is acceptable."""
    password = password or ""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Mật khẩu không được dài quá {MAX_LENGTH} ký tự.")
    lowered = password.lower()
    name = (username or "").strip().lower()
    if name and len(name) >= 3 and name in lowered:
        problems.append("Mật khẩu không được chứa tên đăng nhập.")
    if lowered in COMMON_PASSWORDS or lowered.rstrip("!.@#") in COMMON_PASSWORDS:
        problems.append("Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác.")
    needed = 2 if len(password) >= PASSPHRASE_LENGTH else 3
    if _classes(password) < needed:
        problems.append(
            "Mật khẩu phải kết hợp chữ thường, chữ hoa, chữ số và ký tự đặc biệt "
            f"(ít nhất {needed} loại{'' if needed == 3 else ' với mật khẩu từ 16 ký tự'})."
        )
    return problems


def generate_password() -> str:
    """A random password that passes the policy (about 90 bits), e.g. ``k7Pm-x3Qa-Rt9w-hE4n``.

    Groups of four without look-alike characters, so it reads out and types easily
    from a printed list.
    """
    while True:
        groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4)]
        candidate = "-".join(groups)
        if _classes(candidate) == 4 and not password_problems(candidate):
            return candidate
