"""Administration (admins only): counts, the units mapping in force and the last verification."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth import roles_required
from ..services.dashboard import dashboard
from ..services.documents import archive_overview
from ..services.roles import ADMINS
from ..services.verification import last_verification
from ..web import db_session

bp = Blueprint("admin", __name__, url_prefix="/quan-tri")


@bp.route("/")
@roles_required(*ADMINS)
def index():
    session = db_session()
    return render_template(
        "admin.html",
        overview=archive_overview(session),
        verification=last_verification(session),
        board=dashboard(session, None, operations=True),
    )
