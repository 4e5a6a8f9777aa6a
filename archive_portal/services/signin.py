"""Signing in: local accounts first, then the directory; lockout; one answer for every failure.

A username that exists locally with ``source='local'`` is checked against its
argon2 hash only.  Otherwise, when LDAP is configured, the directory decides
and the local row (``source='ldap'``, no password hash) is created or updated
with the role and unit its groups give at this login.  Disabled, expired and
locked accounts are refused whatever the directory says.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.db.models import Account, NewUnit
from archive_core.settings import Settings

from .accounts import (
    LOOKUP_DEFAULT_LIFETIME,
    MAX_PASSWORD_LENGTH,
    USERNAME_RE,
    LoginPolicy,
    authenticate,
    end_sessions,
    find_account,
    is_locked,
    is_usable,
    normalize_username,
    record_failure,
    record_success,
    verify_dummy,
)
from .directory import directory_login
from .roles import LOOKUP

log = logging.getLogger(__name__)


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        max_failures=settings.login_max_failures, lockout=timedelta(minutes=settings.login_lockout_minutes)
    )


def sign_in(session: Session, settings: Settings, username: str, password: str) -> Account | None:
    """The account to sign in, or None (wrong, unknown, locked, disabled, expired, unmapped)."""
    policy = login_policy(settings)
    name = normalize_username(username)
    password = password or ""
    account = find_account(session, name) if name else None
    if account is not None and account.source == "local":
        return authenticate(session, name, password, policy)
    if not settings.ldap.enabled or not name or not password or len(password) > MAX_PASSWORD_LENGTH:
        verify_dummy(password)
        return None
    if account is not None and is_locked(account):
        verify_dummy(password)
        return None
    user = directory_login(settings.ldap, name, password)
    if user is None:
        if account is not None:
            record_failure(account, policy)
            session.flush()
        return None
    if user.role == LOOKUP and session.get(NewUnit, user.new_unit_code) is None:
        log.warning("ldap: group map names unknown new unit %s", user.new_unit_code)
        return None
    if account is None:
        if not USERNAME_RE.match(name):
            log.info("ldap: directory login name not usable as a portal username")
            return None
        account = Account(
            username=name,
            source="ldap",
            password_hash=None,
            active=True,
            failed_logins=0,
            session_version=0,
            must_change_password=False,
            role=user.role,
            new_unit_code=user.new_unit_code,
        )
        session.add(account)
    if (account.role, account.new_unit_code) != (user.role, user.new_unit_code):
        end_sessions(account)  # other open sessions must not keep the old role
    account.role = user.role
    account.new_unit_code = user.new_unit_code
    account.ldap_dn = user.dn
    account.display_name = user.display_name or account.display_name or name
    account.email = user.email or account.email or ""
    if user.role == LOOKUP and account.expires_at is None:
        account.expires_at = utcnow() + LOOKUP_DEFAULT_LIFETIME
    session.flush()
    if not is_usable(account):
        return None
    record_success(account)
    session.flush()
    return account
