"""Who is asking: flask-login wiring, the signed-in user with its scope, role checks.

The user object is rebuilt from the database on every request (an account
disabled or expired mid-session is out at its next click) and carries the
account's scope, computed by ``services.scope.scope_for`` and nothing else.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from ..db.models import Account, NewUnit
from ..services.accounts import get_account, is_usable
from ..services.scope import scope_for

login_manager = LoginManager()


@dataclass
class PortalUser(UserMixin):
    account_id: int
    username: str
    display_name: str
    role: str
    new_unit_code: str | None
    new_unit_name: str
    scope: frozenset[str] | None
    session_token: str

    def get_id(self) -> str:
        return f"{self.account_id}:{self.session_token}"

    @property
    def sees_all(self) -> bool:
        return self.scope is None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def session_token(account: Account) -> str:
    """Changes when the password does, so a new password signs out every old session."""
    return hashlib.sha256(f"{account.id}:{account.password_hash or ''}".encode()).hexdigest()[:20]


def user_from_account(session, account: Account) -> PortalUser:
    unit = session.get(NewUnit, account.new_unit_code) if account.new_unit_code else None
    return PortalUser(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name or account.username,
        role=account.role,
        new_unit_code=account.new_unit_code,
        new_unit_name=unit.name if unit else "",
        scope=scope_for(session, account.role, account.new_unit_code),
        session_token=session_token(account),
    )


@login_manager.user_loader
def _load_user(user_id: str) -> PortalUser | None:
    account_id, _, token = (user_id or "").partition(":")
    if not account_id.isdigit():
        return None
    archive = current_app.extensions["archive"]
    with archive.db.session() as session:
        account = get_account(session, int(account_id))
        if account is None or not is_usable(account) or session_token(account) != token:
            return None
        return user_from_account(session, account)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        return jsonify(error="Cần đăng nhập."), 401
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def current_scope() -> frozenset[str] | None:
    """The signed-in user's scope (None = all units); empty when nobody is signed in."""
    if not current_user.is_authenticated:
        return frozenset()
    return current_user.scope


def roles_required(*roles: str) -> Callable:
    """Refuse (403) a signed-in user whose role is not one of ``roles``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app: Flask) -> None:
    from .limits import limiter

    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"
