"""Who is calling a machine route (JSON API, OAI-PMH): a bearer token, or the portal's session.

A request carrying ``Authorization`` is judged by that header alone (a bad
token is a 401 even beside a valid session cookie).  The caller is rebuilt
from its account at every request, with the scope ``services.scope`` gives it
now.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, jsonify, request
from flask_login import current_user

from ..services.tokens import authenticate_token, bearer_token
from ..web import db_session

INVALID = "Mã truy cập không hợp lệ, đã bị thu hồi hoặc đã hết hạn."
MISSING = "Cần mã truy cập (Authorization: Bearer …)."


@dataclass(frozen=True)
class Caller:
    user: object  # the PortalUser: username, role, new_unit_code, scope
    token_id: int | None  # None: the portal's own session

    @property
    def scope(self) -> frozenset[str] | None:
        return self.user.scope  # type: ignore[attr-defined]  # PortalUser lives in auth, above views

    @property
    def via(self) -> str:
        return f"token:{self.token_id}" if self.token_id is not None else "session"


def identify(*, allow_session: bool = True) -> Caller | None:
    """The caller of this request (cached on ``g``), or None when it is not authenticated."""
    if "api_caller" in g:
        return g.api_caller
    from ..auth import user_from_account

    caller: Caller | None = None
    header = request.headers.get("Authorization")
    if header is not None:
        token = bearer_token(header)
        if token:
            # Recording the token's last use is the token's bookkeeping, not a write by the reader:
            # committed at once, so the rest of the request holds no write lock.
            g.read_only = False
            session = db_session()
            found = authenticate_token(session, token)
            if found is not None:
                api_token, account = found
                caller = Caller(user_from_account(session, account), api_token.id)
            session.commit()
        # The portal's read-only rule holds for tokens too: a lookup token writes only the audit trail.
        g.read_only = caller is None or bool(getattr(caller.user, "read_only", False))
    elif allow_session and current_user.is_authenticated:
        caller = Caller(current_user._get_current_object(), None)
    g.api_caller = caller
    return caller


def unauthorized():
    """401 with the challenge RFC 6750 asks for."""
    invalid = request.headers.get("Authorization") is not None
    response = jsonify(error=INVALID if invalid else MISSING)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = (
        'Bearer realm="archive", error="invalid_token"' if invalid else 'Bearer realm="archive"'
    )
    return response
