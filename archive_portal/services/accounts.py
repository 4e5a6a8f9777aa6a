"""Accounts: creation with role rules, argon2 password checks, lockout, provisioning actions.

A ``lookup`` account belongs to exactly one new unit (which decides its scope,
see ``services.scope``) and always carries an expiry date (a year unless told
otherwise); the other roles see every unit and carry no unit.

Every action that must end the account's open sessions (disable, expire,
password reset) bumps ``Account.session_version``: the signed-in user is
rebuilt from the row on every request and refused when its version is stale.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_core.clock import end_of_local_day, utcnow
from archive_core.db.models import Account, ApiToken, NewUnit
from archive_core.errors import UserError

from .password_policy import MAX_LENGTH as MAX_PASSWORD_LENGTH
from .password_policy import MIN_LENGTH as MIN_PASSWORD_LENGTH
from .password_policy import generate_password, password_problems
from .passwords import hash_password, needs_rehash, password_matches
from .roles import LOOKUP, ROLES

__all__ = [
    "ROLES",
    "LOOKUP_DEFAULT_LIFETIME",
    "MIN_PASSWORD_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "AccountError",
    "LoginPolicy",
    "normalize_username",
    "generate_password",
    "create_account",
    "is_usable",
    "is_locked",
    "authenticate",
    "verify_dummy",
    "record_failure",
    "record_success",
    "get_account",
    "find_account",
    "list_accounts",
    "disable_account",
    "enable_account",
    "expire_account",
    "set_expiry",
    "reset_password",
    "change_password",
    "end_sessions",
    "account_status",
    "validate_username",
]

LOOKUP_DEFAULT_LIFETIME = timedelta(days=365)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@\-]{1,149}$")

# Verified against when the user does not exist, so both failures cost the same time.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class AccountError(UserError):
    """An account cannot be created or changed as asked; the message (Vietnamese) says why."""


@dataclass(frozen=True)
class LoginPolicy:
    """After ``max_failures`` wrong passwords in a row the account is locked for ``lockout``."""

    max_failures: int = 10
    lockout: timedelta = timedelta(minutes=15)


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def validate_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise AccountError("Tên đăng nhập phải dài 2–150 ký tự, chỉ gồm chữ không dấu, số và . _ @ -")
    return name


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise AccountError(" ".join(problems))


def _end_of_day(day: date) -> datetime:
    """An expiry typed as a date is a local date: the account works until the end of that day in Hà Nội."""
    return end_of_local_day(day)


def create_account(
    session: Session,
    *,
    username: str,
    role: str,
    new_unit_code: str | None = None,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    expires_at: datetime | date | None = None,
    must_change_password: bool | None = None,
) -> tuple[Account, str]:
    """Add a local account; returns it (flushed, not committed) and its clear-text password.

    A generated password is an initial one: the account must change it at first
    login (unless ``must_change_password`` says otherwise).
    """
    name = validate_username(username)
    if role not in ROLES:
        raise AccountError(f"Vai trò “{role}” không hợp lệ; chọn một trong: {', '.join(ROLES)}")
    unit = (new_unit_code or "").strip() or None
    if isinstance(expires_at, date) and not isinstance(expires_at, datetime):
        expires_at = _end_of_day(expires_at)
    if role == LOOKUP:
        if unit is None:
            raise AccountError("Tài khoản tra cứu phải thuộc một đơn vị mới (--new-unit).")
        if session.get(NewUnit, unit) is None:
            raise AccountError(f"Không có đơn vị mới mã “{unit}” trong bảng sắp xếp đơn vị.")
        if expires_at is None:
            expires_at = utcnow() + LOOKUP_DEFAULT_LIFETIME
    elif unit is not None:
        raise AccountError(f"Tài khoản vai trò “{role}” không gắn với đơn vị nào.")
    if find_account(session, name) is not None:
        raise AccountError(f"Tên đăng nhập “{name}” đã tồn tại.")
    generated = password is None
    if password is None:
        password = generate_password()
    else:
        _check_password(password, name)
    account = Account(
        username=name,
        role=role,
        new_unit_code=unit,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        email=email.strip(),
        expires_at=expires_at,
        source="local",
        active=True,
        must_change_password=generated if must_change_password is None else must_change_password,
        password_changed_at=None if generated else utcnow(),
        failed_logins=0,
        session_version=0,
    )
    session.add(account)
    session.flush()
    return account, password


def is_usable(account: Account, now: datetime | None = None) -> bool:
    """Active and not expired."""
    now = now or utcnow()
    return bool(account.active) and (account.expires_at is None or account.expires_at > now)


def is_locked(account: Account, now: datetime | None = None) -> bool:
    """Temporarily locked after too many wrong passwords (persisted: holds across processes)."""
    return account.locked_until is not None and account.locked_until > (now or utcnow())


def verify_dummy(password: str) -> None:
    """Spend the time of a password check when there is nothing to check against."""
    password_matches(_DUMMY_HASH, password or "")


def record_failure(account: Account, policy: LoginPolicy, now: datetime | None = None) -> None:
    now = now or utcnow()
    account.failed_logins = (account.failed_logins or 0) + 1
    account.last_failed_login_at = now
    if account.failed_logins >= policy.max_failures:
        account.locked_until = now + policy.lockout
        account.failed_logins = 0


def record_success(account: Account, now: datetime | None = None) -> None:
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now or utcnow()


def authenticate(session: Session, username: str, password: str, policy: LoginPolicy | None = None) -> Account | None:
    """The local account if the password is right and the account usable and unlocked; None otherwise.

    One answer (None) for unknown user, wrong password, locked, disabled and
    expired; a wrong password counts toward the lockout.
    """
    policy = policy or LoginPolicy()
    name = normalize_username(username)
    password = password or ""
    if not name or not password or len(password) > MAX_PASSWORD_LENGTH:
        return None
    account = find_account(session, name)
    stored = account.password_hash if account is not None and account.source == "local" else None
    right = password_matches(stored or _DUMMY_HASH, password) and stored is not None
    if account is None or stored is None:
        return None
    now = utcnow()
    if is_locked(account, now):
        return None
    if not right:
        record_failure(account, policy, now)
        session.flush()
        return None
    if not is_usable(account, now):
        return None
    if needs_rehash(stored):
        account.password_hash = hash_password(password)
    record_success(account, now)
    session.flush()
    return account


MAX_ID = 2**63 - 1


def get_account(session: Session, account_id: int) -> Account | None:
    """The account with this id; None for ids outside the database's integer range too."""
    return session.get(Account, account_id) if 0 < account_id <= MAX_ID else None


def find_account(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(func.lower(Account.username) == normalize_username(username)))


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.role, Account.new_unit_code, Account.username)))


def end_sessions(account: Account) -> None:
    """Every open session of the account is refused from its next request on."""
    account.session_version = (account.session_version or 0) + 1


def sign_out_everywhere(session: Session, account_id: int) -> None:
    """Sign-out: the cookie just cleared, and any copy of it, stop working (every session of the account)."""
    account = get_account(session, account_id)
    if account is not None:
        end_sessions(account)
        session.flush()


def disable_account(session: Session, account: Account) -> None:
    account.active = False
    account.disabled_at = utcnow()
    end_sessions(account)
    session.flush()


def enable_account(session: Session, account: Account) -> None:
    """Re-enable (and unlock); the expiry date is left as it is (see ``set_expiry``)."""
    account.active = True
    account.disabled_at = None
    account.failed_logins = 0
    account.locked_until = None
    session.flush()


def set_expiry(session: Session, account: Account, expires_on: date | datetime | None) -> None:
    """A new expiry date (the account works through that day); lookup accounts always keep one."""
    if expires_on is None:
        if account.role == LOOKUP:
            raise AccountError("Tài khoản tra cứu phải có ngày hết hạn.")
        account.expires_at = None
    else:
        account.expires_at = expires_on if isinstance(expires_on, datetime) else _end_of_day(expires_on)
    if not is_usable(account):
        end_sessions(account)
    session.flush()


def expire_account(session: Session, account: Account) -> None:
    """Expire now: the account can no longer sign in and its sessions end."""
    account.expires_at = utcnow()
    end_sessions(account)
    session.flush()


def reset_password(session: Session, account: Account) -> str:
    """A new generated password that must be changed at next login; old sessions end."""
    if account.source != "local":
        raise AccountError("Mật khẩu của tài khoản danh bạ (LDAP) do danh bạ quản lý.")
    password = generate_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.password_changed_at = None
    account.failed_logins = 0
    account.locked_until = None
    end_sessions(account)
    revoke_all_tokens(session, account)
    session.flush()
    return password


def revoke_all_tokens(session: Session, account: Account) -> int:
    """Revoke every live API token of the account (a reset means its credentials are not trusted); how many."""
    live = list(
        session.scalars(select(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None)))
    )
    now = utcnow()
    for token in live:
        token.revoked_at = now
    return len(live)


def change_password(session: Session, account: Account, current: str, new: str) -> None:
    """The account's own change: the current password first, then the policy."""
    if account.source != "local" or not account.password_hash:
        raise AccountError("Mật khẩu của tài khoản danh bạ (LDAP) do danh bạ quản lý.")
    if not password_matches(account.password_hash, current or ""):
        raise AccountError("Mật khẩu hiện tại không đúng.")
    if new == current:
        raise AccountError("Mật khẩu mới phải khác mật khẩu hiện tại.")
    _check_password(new, account.username)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.password_changed_at = utcnow()
    end_sessions(account)
    session.flush()


def account_status(account: Account, now: datetime | None = None) -> str:
    """The state an admin sees, in Vietnamese."""
    now = now or utcnow()
    if not account.active:
        return "Đã vô hiệu hóa"
    if account.expires_at is not None and account.expires_at <= now:
        return "Đã hết hạn"
    if is_locked(account, now):
        return "Tạm khóa (đăng nhập sai nhiều lần)"
    if account.must_change_password:
        return "Chờ đổi mật khẩu"
    return "Đang hoạt động"
