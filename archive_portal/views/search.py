"""The search page."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote_plus

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.datastructures import iter_multi_items

from ..auth import current_scope, roles_required
from ..auth.limits import limit_search
from ..services.bulk import MAX_BULK_DOCUMENTS
from ..services.export import EXPORT_CAP, FORMATS, collect, stamp_now, to_csv, to_xlsx
from ..services.formatting import DIRECTION_LABELS
from ..services.roles import DOCUMENT_READERS, ORIGINAL_RECEIVERS
from ..services.search import (
    FACET_ARGUMENTS,
    FACET_TITLES,
    SORTS,
    USER_ERRORS,
    UnitGroup,
    facet_click,
    search_documents,
    search_menus,
)
from ..web import current_archive, db_session
from . import error_response
from .auditing import audit_event, search_details
from .disposition import attachment

bp = Blueprint("search", __name__)
URL_SAFE = "!$'()*,/:;?@"  # what werkzeug leaves unquoted in a query string (url_for builds the same)


@lru_cache(maxsize=4096)
def _quote(text: str) -> str:
    return quote_plus(text, safe=URL_SAFE)


def _query(args: dict) -> str:
    """``args`` as a query string, exactly as ``url_for(endpoint, **args)`` writes it."""
    return "&".join(f"{_quote(str(k))}={_quote(str(v))}" for k, v in iter_multi_items(args) if v is not None)


def _url_with(base: str, args: dict) -> str:
    """``base`` with ``args`` as its query string, as ``url_for`` writes it.

    The results page links every facet value (hundreds of units for an archivist) and every hit;
    building each link through ``url_for`` ran the URL map and quoted the same words each time."""
    query = _query(args)
    return f"{base}?{query}" if query else base


def unit_options(units, chosen: str | None) -> Markup:
    """The unit menu's options, ``chosen`` selected.  An archivist's menu has hundreds of units, the
    same on every page until the units or documents change: rendered once per menu (~4 ms a page)."""
    options = _unit_options(tuple((group.label, tuple(group.options)) for group in units))
    if not chosen:
        return options
    needle = f'<option value="{escape(chosen)}"'
    return Markup(str(options).replace(needle, f"{needle} selected", 1))


@lru_cache(maxsize=256)
def _unit_options(groups: tuple) -> Markup:
    return Markup(
        render_template("_unit_options.html", units=[UnitGroup(label, list(options)) for label, options in groups])
    )


_SPLIT = "\x00facet\x00"  # stands for a facet's own arguments while the rest of a link is built


class FacetLinks:
    """``facet_url`` for every value of a results page: the search with ``facet_click``'s arguments, from page 1.

    An archivist's page links hundreds of units; the arguments around a facet's own ones are the same
    for each of its values, so they are quoted once per facet and each link quotes only its own."""

    def __init__(self, base: str, params) -> None:
        self.base = base
        self.params = params
        self._around: dict[str, tuple[str, str]] = {}

    def _parts(self, facet: str) -> tuple[str, str]:
        """The query string before and after the facet's own arguments."""
        if facet not in self._around:
            first, *others = FACET_ARGUMENTS[facet]
            changes = {first: [_SPLIT], **dict.fromkeys(others), "page": ""}
            query = _query(self.params.to_args(**changes))
            before, _, after = query.partition(f"{_quote(first)}={_quote(_SPLIT)}")
            self._around[facet] = (before.rstrip("&"), after.lstrip("&"))
        return self._around[facet]

    def url(self, facet: str, value: str) -> str:
        own = _query({key: v for key, v in facet_click(self.params, facet, value).items() if v})
        before, after = self._parts(facet)
        query = "&".join(part for part in (before, own, after) if part)
        return f"{self.base}?{query}" if query else self.base


@bp.route("/")
@roles_required(*DOCUMENT_READERS)
@limit_search
def index():
    session = db_session()
    scope = current_scope()
    result = search_documents(session, current_archive(), account_scope=scope, params=request.args)
    params = result.params
    audit_event("search", details=search_details(result))

    base = url_for("search.index")

    def page_url(number: int) -> str:
        return _url_with(base, params.to_args(page=number if number > 1 else ""))

    doc_query = _query(params.to_args())
    doc_path = url_for("documents.show", doc_id=0)  # "/van-ban/0": the id is its last segment

    def document_url(doc_id: int) -> str:
        path = f"{doc_path[:-1]}{int(doc_id)}"
        return f"{path}?{doc_query}" if doc_query else path

    status = 503 if result.unavailable else 200
    menus = search_menus(session, scope)
    return render_template(
        "search.html",
        result=result,
        params=params,
        unit_options=unit_options(menus.units, params.units[0] if params.units else None),
        doc_types=menus.doc_types,
        directions=DIRECTION_LABELS,
        sorts=SORTS,
        facet_titles=FACET_TITLES,
        page_url=page_url,
        facet_url=FacetLinks(base, params).url,
        document_url=document_url,
        export_url=lambda fmt: url_for("search.export", fmt=fmt, **params.to_args(page="")),
        export_cap=EXPORT_CAP,
        bulk_cap=MAX_BULK_DOCUMENTS,
        gets_originals=current_user.role in ORIGINAL_RECEIVERS,
        clear_url=url_for("search.index"),
        user=current_user,
    ), status


@bp.route("/ket-qua.<fmt>")
@roles_required(*DOCUMENT_READERS)
@limit_search
def export(fmt: str):
    """The results of the search in the query string as XLSX or CSV (up to EXPORT_CAP rows, said in the file)."""
    if fmt not in FORMATS:
        abort(404)
    scope = current_scope()
    try:
        found = collect(db_session(), current_archive(), scope, request.args)
    except USER_ERRORS as error:
        return error_response(400, str(error))
    made_at, stamp = stamp_now()
    base = request.host_url.rstrip("/")
    body = to_xlsx(found, base, made_at) if fmt == "xlsx" else to_csv(found, base)
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = attachment(f"ket-qua-tra-cuu-{stamp}.{fmt}")
    response.headers["Cache-Control"] = "private, no-store"
    audit_event(
        "search_export",
        details={"format": fmt, "q": found.params.q, "rows": len(found.hits), "total": found.total, "cut": found.cut},
    )
    return response
