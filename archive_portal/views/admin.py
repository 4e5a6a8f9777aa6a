"""Administration (admins only): counts and the units mapping in force."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..auth import roles_required
from ..services.documents import archive_overview
from archive_ops.verify import last_verification

bp = Blueprint("admin", __name__, url_prefix="/quan-tri")


@bp.route("/")
@roles_required("admin")
def index():
    archive = current_app.extensions["archive"]
    return render_template("admin.html", overview=archive_overview(archive), verification=last_verification(archive))
