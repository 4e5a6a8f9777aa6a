"""The archivist's pages: packages, their ingest reports and the handover records (biên bản bàn giao)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup

from ..auth import roles_required
from ..services import packages
from ..services.roles import PACKAGE_READERS
from ..web import current_archive, db_session
from .auditing import audit_event
from .disposition import attachment

bp = Blueprint("archivist", __name__, url_prefix="/luu-tru")


def _download(body: str, filename: str, mimetype: str) -> Response:
    # A unit code from the URL never reaches the header as typed (RFC 6266, Latin-1 safe).
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": attachment(filename)})


@bp.route("/")
@roles_required(*PACKAGE_READERS)
def index():
    session = db_session()
    return render_template(
        "archivist/packages.html",
        packages=packages.list_packages(session),
        **packages.REPORT_LABELS,
        units=packages.units_with_packages(session),
    )


@bp.route("/goi/<int:package_id>")
@roles_required(*PACKAGE_READERS)
def report(package_id: int):
    found = packages.package_report(db_session(), current_archive(), package_id)
    audit_event("package_report_view", target=f"goi:{package_id}", details={"found": found is not None})
    if found is None:
        abort(404)
    return render_template("archivist/report.html", report=found, **packages.REPORT_LABELS)


@bp.route("/goi/<int:package_id>/bao-cao.json")
@roles_required(*PACKAGE_READERS)
def report_json(package_id: int):
    found = packages.package_report(db_session(), current_archive(), package_id)
    audit_event("package_report_download", target=f"goi:{package_id}", details={"found": found is not None})
    if found is None:
        abort(404)
    return _download(
        json.dumps(found, ensure_ascii=False, indent=2, default=str),
        f"bao-cao-goi-{package_id}.json",
        "application/json",
    )


def _record_or_404(action: str, **selector):
    """The handover record, audited as read (or as not found) under ``action``."""
    record = packages.handover_record(current_archive(), **selector)
    target = f"goi:{selector['package_id']}" if "package_id" in selector else f"don-vi:{selector.get('unit_code', '')}"
    audit_event(action, target=target[:300], details={"found": record is not None})
    if record is None:
        abort(404)
    return record


def _handover_page(view_prefix: str, **selector):
    record = _record_or_404("handover_view", **selector)
    return render_template(
        "archivist/handover.html",
        record=record,
        fragment=Markup(packages.handover_fragment(record)),
        csv_url=(f"archivist.{view_prefix}_csv", selector),
        html_url=(f"archivist.{view_prefix}_html", selector),
        print_url=(f"printing.{view_prefix}", selector),
    )


def _handover_file(kind: str, name: str, **selector) -> Response:
    """The record as CSV (every file) or as a standalone printable page, to download."""
    record = _record_or_404("handover_download", **selector)
    if kind == "csv":
        return _download(packages.handover_csv(record), f"{name}.csv", "text/csv; charset=utf-8")
    return _download(packages.handover_html(record), f"{name}.html", "text/html; charset=utf-8")


@bp.route("/goi/<int:package_id>/bien-ban")
@roles_required(*PACKAGE_READERS)
def package_handover(package_id: int):
    return _handover_page("package_handover", package_id=package_id)


@bp.route("/goi/<int:package_id>/bien-ban.csv")
@roles_required(*PACKAGE_READERS)
def package_handover_csv(package_id: int):
    return _handover_file("csv", f"bien-ban-goi-{package_id}", package_id=package_id)


@bp.route("/goi/<int:package_id>/bien-ban.html")
@roles_required(*PACKAGE_READERS)
def package_handover_html(package_id: int):
    return _handover_file("html", f"bien-ban-goi-{package_id}", package_id=package_id)


@bp.route("/don-vi/<unit_code>/bien-ban")
@roles_required(*PACKAGE_READERS)
def unit_handover(unit_code: str):
    return _handover_page("unit_handover", unit_code=unit_code)


@bp.route("/don-vi/<unit_code>/bien-ban.csv")
@roles_required(*PACKAGE_READERS)
def unit_handover_csv(unit_code: str):
    return _handover_file("csv", f"bien-ban-don-vi-{unit_code}", unit_code=unit_code)


@bp.route("/don-vi/<unit_code>/bien-ban.html")
@roles_required(*PACKAGE_READERS)
def unit_handover_html(unit_code: str):
    return _handover_file("html", f"bien-ban-don-vi-{unit_code}", unit_code=unit_code)
