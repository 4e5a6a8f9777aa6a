"""Throttling of failed sign-ins (Flask-Limiter): only failures count.

Per client address and username, and per client address alone.  The store is
``ARCHIVE_RATELIMIT_STORAGE_URI`` (default ``memory://``: each gunicorn worker
counts its own attempts; ``redis://…`` or ``memcached://…`` share the count).
Beside this throttle, an account itself locks after repeated failures
(``services.accounts.record_failure``), which holds across processes.
"""

from __future__ import annotations

from flask import g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ..services import audit
from ..services.accounts import normalize_username
from ..web import at_commit, current_archive

PER_ACCOUNT = "5 per minute;20 per hour"
PER_ADDRESS = "30 per minute;200 per hour"

limiter = Limiter(get_remote_address, headers_enabled=False)  # storage: RATELIMIT_STORAGE_URI (auth.init_app)


def _address_and_username() -> str:
    return f"{get_remote_address()}|{normalize_username(request.form.get('username', ''))[:150]}"


def _failed(response) -> bool:
    return response.status_code == 401


def _audit_throttled(limit) -> None:
    """A refused sign-in is a refusal like any other: in the trail (with the request's unit of work), with the name typed."""
    username = normalize_username(request.form.get("username", ""))[:150]
    details = {"limit": str(getattr(limit, "limit", limit))[:100]}
    at_commit(
        lambda session: audit.record(session, "login_throttled", username=username, new_unit_code="", details=details)
    )


limit_login_per_account = limiter.limit(
    PER_ACCOUNT,
    key_func=_address_and_username,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
    on_breach=_audit_throttled,
)
limit_login_per_address = limiter.limit(
    PER_ADDRESS,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
    on_breach=_audit_throttled,
)


def _account_key() -> str:
    from flask_login import current_user

    return f"{get_remote_address()}|{getattr(current_user, 'account_id', '')}"


def _refused(response) -> bool:
    return response.status_code == 400


limit_password_change = limiter.limit(
    PER_ACCOUNT,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_refused,
    scope="password-change",
)


def _search_limit() -> str:
    return current_archive().settings.search_rate_limit


def _searcher_key() -> str:
    """The account searching, through the pages or a token: one budget for both."""
    from flask_login import current_user

    caller = g.get("api_caller")
    account_id = getattr(caller.user, "account_id", "") if caller is not None else ""
    if not account_id and current_user.is_authenticated:
        account_id = current_user.account_id
    who = f"account:{account_id}" if account_id else f"address:{get_remote_address()}"
    return f"{current_archive().settings.home}|{who}"  # homes sharing one store stay apart


# Searches per account, whatever the address: one heavy query costs the engine the
# same from any machine, and eight of them at once must not hold every worker.
limit_search = limiter.shared_limit(_search_limit, scope="search", key_func=_searcher_key)
