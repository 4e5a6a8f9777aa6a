"""Who is asking: flask-login wiring, the signed-in user with its scope, role checks.

The user object is rebuilt from the database on every request (an account
disabled or expired mid-session is out at its next click) and carries the
account's scope, computed by ``services.scope.scope_for`` and nothing else.

Three checks run before every view (``init_app``): a session idle for longer
than ``ARCHIVE_SESSION_IDLE_MINUTES`` ends; an account that must change its
password reaches nothing but the change-password page; and a read-only role
(``lookup``) can neither call a route that changes something nor, should a
view try, flush any change to the database but the audit trail.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Flask, abort, flash, g, has_request_context, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, logout_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from archive_core.db.models import Account

from ..services.accounts import get_account, is_usable
from ..services.roles import ADMIN, READ_ONLY_ROLES
from ..services.scope import scope_for
from ..services.units import new_unit_name
from ..web import archive_of, current_archive, db_session

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints a read-only account may still POST to: its own session, password and API tokens
# (credentials of the account itself, not archive data).
OWN_ACCOUNT_ENDPOINTS = {"auth.logout", "auth.change_password", "tokens.create", "tokens.revoke"}
# All that an account which must change its password can reach.
PASSWORD_CHANGE_ENDPOINTS = {"auth.logout", "auth.change_password"}
# POST endpoints that only read (OAI-PMH allows POSTed requests): allowed, the write guard stays on.
READING_POST_ENDPOINTS = {"oai.endpoint"}
# Tables a read-only account's requests may write: the trail of what it read, its tokens' last use.
READ_ONLY_WRITABLE_TABLES = {"audit_event", "api_token"}
# What a read-only account may write for itself, by endpoint: its own saved searches, nothing else
# (rows of these tables that belong to another account are refused like any other write).
OWN_ROW_WRITES = {"saved_searches.create": {"saved_search"}, "saved_searches.remove": {"saved_search"}}
IDLE_KEY = "_seen"
IDLE_EXPIRED = "Phiên làm việc đã hết hạn do không hoạt động. Vui lòng đăng nhập lại."
MUST_CHANGE = "Bạn cần đổi mật khẩu trước khi tiếp tục."

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
    must_change_password: bool = False
    source: str = "local"

    def get_id(self) -> str:
        return f"{self.account_id}:{self.session_token}"

    @property
    def sees_all(self) -> bool:
        return self.scope is None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def read_only(self) -> bool:
        return self.role in READ_ONLY_ROLES


def session_token(account: Account) -> str:
    """Changes with the password and ``session_version``: a new password, a reset, disabling or
    expiring the account signs out every old session."""
    seed = f"{account.id}:{account.password_hash or ''}:{account.session_version or 0}"
    return hashlib.sha256(seed.encode()).hexdigest()[:20]


def user_from_account(session, account: Account) -> PortalUser:
    return PortalUser(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name or account.username,
        role=account.role,
        new_unit_code=account.new_unit_code,
        new_unit_name=new_unit_name(session, account.new_unit_code),
        scope=scope_for(session, account.role, account.new_unit_code, bool(account.may_see_restricted)),
        session_token=session_token(account),
        must_change_password=bool(account.must_change_password),
        source=account.source,
    )


@login_manager.user_loader
def _load_user(user_id: str) -> PortalUser | None:
    account_id, _, token = (user_id or "").partition(":")
    if not account_id.isdigit():
        return None
    session = db_session()
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


def _signed_out_response():
    logout_user()
    session.clear()
    if request.path.startswith("/api/"):
        return jsonify(error=IDLE_EXPIRED), 401
    flash(IDLE_EXPIRED, "info")
    return redirect(url_for("auth.login"))


def _guard_request():
    """Idle expiry, the forced password change, and the read-only rule (see the module docstring)."""
    g.read_only = False
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    idle_limit = current_archive().settings.session_idle_minutes * 60
    seen = session.get(IDLE_KEY)
    if not isinstance(seen, (int, float)):
        seen = None
    if idle_limit > 0 and (seen is None or now - seen > idle_limit):
        return _signed_out_response()
    if seen is None or now - seen >= 15:  # spare a new cookie on every click
        session[IDLE_KEY] = now
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        if request.path.startswith("/api/"):
            return jsonify(error=MUST_CHANGE), 403
        return redirect(url_for("auth.change_password"))
    if current_user.read_only:
        if (
            request.method not in SAFE_METHODS
            and request.endpoint not in OWN_ACCOUNT_ENDPOINTS
            and request.endpoint not in READING_POST_ENDPOINTS
            and request.endpoint not in OWN_ROW_WRITES
        ):
            abort(403)
        g.read_only = request.endpoint not in OWN_ACCOUNT_ENDPOINTS
    return None


def mark_session_fresh() -> None:
    """Start the idle clock of a session that has just signed in."""
    session[IDLE_KEY] = time.time()


def _refuse_writes_of_read_only_requests(db_session: Session, _context, _instances) -> None:
    if not has_request_context() or not g.get("read_only"):
        return
    own_tables = OWN_ROW_WRITES.get(request.endpoint or "", set())
    for obj in (*db_session.new, *db_session.dirty, *db_session.deleted):
        table = getattr(obj, "__tablename__", "")
        if table in own_tables and getattr(obj, "account_id", None) == current_user.account_id:
            continue
        if table not in READ_ONLY_WRITABLE_TABLES:
            log.error("read-only account %s tried to write %s on %s", current_user.username, table, request.path)
            raise Forbidden()


def init_app(app: Flask) -> None:
    from .limit_storage import storage_uri
    from .limits import limiter

    settings = archive_of(app).settings
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(settings.ratelimit_storage_uri))
    limiter.init_app(app)
    app.before_request(_guard_request)
    if not event.contains(Session, "before_flush", _refuse_writes_of_read_only_requests):
        event.listen(Session, "before_flush", _refuse_writes_of_read_only_requests)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"
