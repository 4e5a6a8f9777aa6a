"""Throttling of failed sign-ins (Flask-Limiter): only failures count.

Per client address and username, and per client address alone; the store is
in process memory (each gunicorn worker counts its own attempts).
"""
from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ..services.accounts import normalize_username

PER_ACCOUNT = "5 per minute;20 per hour"
PER_ADDRESS = "30 per minute;200 per hour"

limiter = Limiter(get_remote_address, storage_uri="memory://", headers_enabled=False)


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
