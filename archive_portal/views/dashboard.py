"""Dashboards: a summary of the reader's scope for everyone; ingest progress and OCR quality for staff."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user

from ..auth import current_scope, roles_required
from ..services.dashboard import dashboard, ingest_progress
from ..services.roles import DOCUMENT_READERS, PACKAGE_READERS
from ..web import db_session

bp = Blueprint("dashboard", __name__, url_prefix="/tong-quan")


@bp.route("/")
@roles_required(*DOCUMENT_READERS)
def index():
    staff = current_user.role in PACKAGE_READERS
    board = dashboard(db_session(), current_scope(), operations=staff)
    return render_template("dashboard.html", board=board, staff=staff)


@bp.route("/tien-do.json")
@roles_required(*PACKAGE_READERS)
def progress():
    """Polled by the progress bar (static/dashboard.js) while packages are being read."""
    response = jsonify(ingest_progress(db_session()).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response
