"""The audit trail in the portal (auditors and admins): filter, page, export as CSV."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for

from archive_core.errors import UserError

from ..auth import roles_required
from ..services.audit import ACTION_LABELS, AuditFilter, browse, export_csv, parse_local_datetime
from ..services.audit_view import describe_all
from ..services.formatting import local_stamp
from ..services.roles import AUDIT_READERS
from ..web import db_session
from .auditing import audit_event

bp = Blueprint("audit_log", __name__, url_prefix="/nhat-ky")

PER_PAGE = 50
FILTER_ARGS = ("username", "unit", "action", "since", "until")


def _filter_from_args() -> tuple[AuditFilter, dict[str, str], list[str]]:
    """The filter typed in the form, the raw values (to show them back) and messages for bad dates."""
    raw = {name: (request.args.get(name) or "").strip()[:100] for name in FILTER_ARGS}
    errors: list[str] = []
    since = until = None
    try:
        since = parse_local_datetime(raw["since"])
    except UserError as error:
        errors.append(f"Từ ngày: {error}")
    try:
        until = parse_local_datetime(raw["until"], end=True)
    except UserError as error:
        errors.append(f"Đến ngày: {error}")
    action = raw["action"] if raw["action"] in ACTION_LABELS else ""
    flt = AuditFilter(username=raw["username"], new_unit_code=raw["unit"], action=action, since=since, until=until)
    return flt, raw, errors


def _filter_details(raw: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in raw.items() if v}


@bp.route("/")
@roles_required(*AUDIT_READERS)
def index():
    flt, raw, errors = _filter_from_args()
    page_no = max(1, min(request.args.get("page", default=1, type=int) or 1, 100_000))
    page = browse(db_session(), flt, page=page_no, per_page=PER_PAGE)
    audit_event("audit_view", details={"filters": _filter_details(raw), "page": page_no, "total": page.total})
    args = {k: v for k, v in raw.items() if v}

    export_values: dict[str, Any] = dict(args)

    def page_url(number: int) -> str:
        values: dict[str, Any] = {**args, **({"page": number} if number > 1 else {})}
        return url_for("audit_log.index", **values)

    return render_template(
        "audit_log.html",
        page=page,
        lines=describe_all(page.events),
        raw=raw,
        errors=errors,
        actions=ACTION_LABELS,
        page_url=page_url,
        csv_url=url_for("audit_log.export", **export_values),
    ), (400 if errors else 200)


@bp.route("/csv")
@roles_required(*AUDIT_READERS)
def export():
    flt, raw, errors = _filter_from_args()
    if errors:
        from . import error_response

        return error_response(400, " ".join(errors))
    audit_event("audit_export", details={"filters": _filter_details(raw)})

    def rows():
        yield from export_csv(db_session(), flt)  # streamed after the commit, in the request's session

    stamp = local_stamp()  # the file is named in the time its reader lives in
    response = Response(stream_with_context(rows()), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="nhat-ky-{stamp}.csv"'
    return response
