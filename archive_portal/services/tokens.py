"""API tokens: expiring, revocable bearer tokens for the JSON API and harvesting.

A token is 256 random bits shown once at creation; the database keeps only
its SHA-256 (a fast hash is enough for a secret of that entropy, and lets a
request find its token by an indexed equality).  A token carries no scope of
its own: each request re-reads the account, so a disabled or expired account,
a revoked or expired token, or a change of the units mapping takes effect at
the next call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.db.models import Account, ApiToken
from archive_core.errors import UserError

from .accounts import is_usable, normalize_username
from .roles import TOKEN_HOLDERS

TOKEN_PREFIX = "hya_"
TOKEN_ROLES = TOKEN_HOLDERS
DEFAULT_DAYS = 90
MAX_DAYS = 366
MAX_NAME = 100
MAX_TOKEN_LENGTH = 200
LAST_USED_RESOLUTION = timedelta(minutes=5)  # last_used_at is written at most this often


class TokenError(UserError):
    """A token cannot be created or revoked as asked; the message (Vietnamese) says why."""


@dataclass(frozen=True)
class TokenInfo:
    id: int
    username: str
    role: str
    new_unit_code: str | None
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def state(self) -> str:
        """``active`` | ``revoked`` | ``expired`` (of the token itself, not its account)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "active"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(token: ApiToken, account: Account) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        username=account.username,
        role=account.role,
        new_unit_code=account.new_unit_code,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def create_token(
    session: Session, account: Account, *, days: int = DEFAULT_DAYS, name: str = "", created_by: str = ""
) -> tuple[TokenInfo, str]:
    """A new token of ``account``; returns its description and the clear token (shown once)."""
    if account.role not in TOKEN_ROLES:
        raise TokenError("Chỉ tài khoản tra cứu và tài khoản lưu trữ viên được cấp mã truy cập API.")
    if not is_usable(account):
        raise TokenError("Tài khoản đã bị khóa hoặc hết hạn.")
    if not (1 <= int(days) <= MAX_DAYS):
        raise TokenError(f"Thời hạn của mã truy cập phải từ 1 đến {MAX_DAYS} ngày.")
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise TokenError(f"Tên mã truy cập dài tối đa {MAX_NAME} ký tự.")
    expires = utcnow() + timedelta(days=int(days))
    if account.expires_at is not None:  # a token never outlives its account
        expires = min(expires, account.expires_at)
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id,
        name=name,
        token_hash=hash_token(clear),
        prefix=clear[: len(TOKEN_PREFIX) + 6],
        created_by=created_by or account.username,
        expires_at=expires,
    )
    session.add(token)
    session.flush()
    return _info(token, account), clear


def find_account(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == normalize_username(username)))


def list_tokens(session: Session, *, account_id: int | None = None, username: str | None = None) -> list[TokenInfo]:
    """Tokens, newest first, of one account (by id or username) or of everyone."""
    stmt = select(ApiToken, Account).join(Account, Account.id == ApiToken.account_id).order_by(ApiToken.id.desc())
    if account_id is not None:
        stmt = stmt.where(ApiToken.account_id == account_id)
    if username is not None:
        stmt = stmt.where(Account.username == normalize_username(username))
    return [_info(t, a) for t, a in session.execute(stmt)]


def revoke_token(session: Session, token_id: int, *, account_id: int | None = None) -> TokenInfo:
    """Revoke one token (of ``account_id`` only, when given); revoking twice is harmless."""
    token = session.get(ApiToken, token_id) if 0 < token_id < 2**63 else None
    if token is None or (account_id is not None and token.account_id != account_id):
        raise TokenError(f"Không có mã truy cập số {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    owner = session.get(Account, token.account_id)
    assert owner is not None  # a token's account is never deleted (foreign key)
    return _info(token, owner)


def authenticate_token(session: Session, clear: str) -> tuple[ApiToken, Account] | None:
    """The live token and its account, or None (unknown, revoked, expired, account unusable)."""
    clear = (clear or "").strip()
    if not clear.startswith(TOKEN_PREFIX) or len(clear) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(clear)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = utcnow()
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    account = session.get(Account, token.account_id)
    if account is None or account.role not in TOKEN_ROLES or not is_usable(account):
        return None
    if account.must_change_password:  # a reset password not yet changed: nothing works but the change page
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return token, account


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; None when the header is absent or of another kind."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()
