"""A dossier (hồ sơ) as every reader sees it: within the account's scope, its documents in order.

A restricted dossier, or one of a unit outside the scope, is a 404 like one that does not
exist; only the documents the account may read are listed.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ..auth import current_scope, roles_required
from ..services.fonds import dossier_view
from ..services.roles import DOCUMENT_READERS
from ..web import db_session
from .auditing import audit_event

bp = Blueprint("dossiers", __name__, url_prefix="/ho-so")


@bp.route("/<int:dossier_id>")
@roles_required(*DOCUMENT_READERS)
def show(dossier_id: int):
    found = dossier_view(db_session(), dossier_id, current_scope())
    audit_event("dossier_view", target=f"ho-so:{dossier_id}", details={"found": found is not None})
    if found is None:
        abort(404)
    return render_template("archivist/dossier.html", dossier=found, full=False)
