"""The search page."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from ..auth import current_scope, roles_required
from ..auth.limits import limit_search
from ..services.formatting import DIRECTION_LABELS
from ..services.roles import DOCUMENT_READERS
from ..services.search import (
    FACET_TITLES,
    SORTS,
    doc_types_in_scope,
    facet_args,
    search_documents,
    units_in_scope,
)
from ..web import current_archive, db_session
from .auditing import audit_event, search_details

bp = Blueprint("search", __name__)


@bp.route("/")
@roles_required(*DOCUMENT_READERS)
@limit_search
def index():
    session = db_session()
    scope = current_scope()
    result = search_documents(session, current_archive(), account_scope=scope, params=request.args)
    params = result.params
    audit_event("search", details=search_details(result))

    def page_url(number: int) -> str:
        return url_for("search.index", **params.to_args(page=number if number > 1 else ""))

    def facet_url(facet: str, value: str) -> str:
        return url_for("search.index", **facet_args(params, facet, value))

    status = 503 if result.unavailable else 200
    return render_template(
        "search.html",
        result=result,
        params=params,
        units=units_in_scope(session, scope),
        doc_types=doc_types_in_scope(session, scope),
        directions=DIRECTION_LABELS,
        sorts=SORTS,
        facet_titles=FACET_TITLES,
        page_url=page_url,
        facet_url=facet_url,
        clear_url=url_for("search.index"),
        user=current_user,
    ), status
