"""What the views hand to the audit trail: who is asking, and what a search or a stamp says."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user

from ..services import audit
from ..services.documents import ORIGINAL_ROLES
from ..services.stamp import Stamp


def audit_event(action: str, *, target: Any = "", details: dict | None = None, **who: Any) -> None:
    """Record ``action`` for the signed-in user (or whoever ``who`` names) at this request's address."""
    if "account" not in who and "username" not in who and current_user.is_authenticated:
        who["account"] = current_user
    audit.record(current_app.extensions["archive"], action, target=str(target), details=details, **who)


def search_details(result) -> dict:
    """Query, filters and hit count of a search, as the trail keeps them."""
    params = result.params
    filters = {k: v for k, v in params.to_args().items() if k not in ("q", "page")}
    return {"q": params.q, "filters": filters, "total": result.total, "page": params.page,
            "error": result.error or ""}


def stamp_for_current_user() -> Stamp | None:
    """The stamp a copy for the signed-in user carries; None for roles that receive originals."""
    from archive_core.clock import utcnow

    if current_user.role in ORIGINAL_ROLES:
        return None
    return Stamp(username=current_user.username, unit_name=current_user.new_unit_name, at=utcnow())
