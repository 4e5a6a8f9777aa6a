"""What the views hand to the audit trail: who is asking, and what a search or a stamp says.

Records join the request's unit of work (``web.at_commit``): they commit together
with the change a view made, and are still written when the request failed.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user

from ..services import audit
from ..services.documents import stamp_for
from ..services.stamp import Stamp
from ..web import at_commit


def audit_event(action: str, *, target: Any = "", details: dict | None = None, **who: Any) -> None:
    """Record ``action`` for the signed-in user (or whoever ``who`` names) at this request's address."""
    if "account" not in who and "username" not in who and current_user.is_authenticated:
        who["account"] = current_user._get_current_object()  # as it is now: a sign-out may follow
    client = request.remote_addr or ""
    at_commit(lambda session: audit.record(session, action, target=str(target), details=details, client=client, **who))


def search_details(result) -> dict:
    """Query, filters and hit count of a search, as the trail keeps them."""
    params = result.params
    filters = {k: v for k, v in params.to_args().items() if k not in ("q", "page")}
    return {
        "q": params.q,
        "filters": filters,
        "total": result.total,
        "page": params.page,
        "ids": [hit.id for hit in result.hits],  # what was shown, for the record
        "error": result.error or "",
    }


def stamp_for_current_user() -> Stamp | None:
    """The stamp a copy for the signed-in user carries; None for roles that receive originals."""
    return stamp_for(current_user)
