"""Local accounts: creation with role rules, argon2 password checks, lookup by id.

A ``lookup`` account belongs to exactly one new unit (which decides its scope,
see ``services.scope``) and expires after a year unless told otherwise; the
other roles see every unit and carry no unit.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import Account, NewUnit, utcnow

ROLES = ("admin", "archivist", "auditor", "lookup")
LOOKUP_DEFAULT_LIFETIME = timedelta(days=365)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@\-]{1,149}$")

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account cannot be created as asked; the message (Vietnamese) says why."""


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def generate_password() -> str:
    """A strong random password (about 120 bits), easy to read out and type."""
    return secrets.token_urlsafe(15)


def create_account(
    session: Session,
    *,
    username: str,
    role: str,
    new_unit_code: str | None = None,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    expires_at: datetime | None = None,
) -> tuple[Account, str]:
    """Add a local account; returns it (flushed, not committed) and its clear-text password."""
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise AccountError(
            "Tên đăng nhập phải dài 2–150 ký tự, chỉ gồm chữ không dấu, số và . _ @ -"
        )
    if role not in ROLES:
        raise AccountError(f"Vai trò “{role}” không hợp lệ; chọn một trong: {', '.join(ROLES)}")
    unit = (new_unit_code or "").strip() or None
    if role == "lookup":
        if unit is None:
            raise AccountError("Tài khoản tra cứu phải thuộc một đơn vị mới (--new-unit).")
        if session.get(NewUnit, unit) is None:
            raise AccountError(f"Không có đơn vị mới mã “{unit}” trong bảng sắp xếp đơn vị.")
        if expires_at is None:
            expires_at = utcnow() + LOOKUP_DEFAULT_LIFETIME
    elif unit is not None:
        raise AccountError(f"Tài khoản vai trò “{role}” không gắn với đơn vị nào.")
    if session.scalar(select(Account.id).where(func.lower(Account.username) == name)) is not None:
        raise AccountError(f"Tên đăng nhập “{name}” đã tồn tại.")
    if password is None:
        password = generate_password()
    elif not (MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    account = Account(
        username=name,
        role=role,
        new_unit_code=unit,
        password_hash=_hasher.hash(password),
        display_name=display_name.strip(),
        email=email.strip(),
        expires_at=expires_at,
        source="local",
        active=True,
    )
    session.add(account)
    session.flush()
    return account, password


def is_usable(account: Account, now: datetime | None = None) -> bool:
    """Active and not expired."""
    now = now or utcnow()
    return bool(account.active) and (account.expires_at is None or account.expires_at > now)


def authenticate(session: Session, username: str, password: str) -> Account | None:
    """The account if the password is right and the account usable; None otherwise (one answer)."""
    name = normalize_username(username)
    password = password or ""
    if not name or len(password) > MAX_PASSWORD_LENGTH:
        return None
    account = session.scalar(select(Account).where(Account.username == name))
    stored = account.password_hash if account is not None and account.source == "local" else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if account is None or stored is None or not is_usable(account):
        return None
    if _hasher.check_needs_rehash(stored):
        account.password_hash = _hasher.hash(password)
    account.last_login_at = utcnow()
    session.flush()
    return account


def get_account(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)
