"""Throttling of failed sign-ins (Flask-Limiter): only failures count.

Per client address and username, and per client address alone.  The store is
``ARCHIVE_RATELIMIT_STORAGE_URI`` (default ``memory://``: each gunicorn worker
counts its own attempts; ``redis://…`` or ``memcached://…`` share the count).
Beside this throttle, an account itself locks after repeated failures
(``services.accounts.record_failure``), which holds across processes.
"""
from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ..services.accounts import normalize_username

PER_ACCOUNT = "5 per minute;20 per hour"
PER_ADDRESS = "30 per minute;200 per hour"

limiter = Limiter(get_remote_address, headers_enabled=False)  # storage: RATELIMIT_STORAGE_URI (auth.init_app)


def _address_and_username() -> str:
    return f"{get_remote_address()}|{normalize_username(request.form.get('username', ''))[:150]}"


def _failed(response) -> bool:
    return response.status_code == 401


limit_login_per_account = limiter.limit(
    PER_ACCOUNT, key_func=_address_and_username, methods=["POST"], deduct_when=_failed, scope="login-account",
)
limit_login_per_address = limiter.limit(
    PER_ADDRESS, methods=["POST"], deduct_when=_failed, scope="login-address",
)


def _account_key() -> str:
    from flask_login import current_user

    return f"{get_remote_address()}|{getattr(current_user, 'account_id', '')}"


def _refused(response) -> bool:
    return response.status_code == 400


limit_password_change = limiter.limit(
    PER_ACCOUNT, key_func=_account_key, methods=["POST"], deduct_when=_refused, scope="password-change",
)
