"""Fonds, dossiers and the retention list: the archivist's view of the archive by the records rules.

Archivists and admins only (``PACKAGE_READERS``): these pages count restricted and
withheld material.  Lookup accounts reach dossiers through the search filter, which
keeps their scope and restrictions.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template

from ..auth import roles_required
from ..services.fonds import DUE_LABELS, dossier_view, fonds_list, fonds_view, retention_due
from ..services.roles import PACKAGE_READERS
from ..web import db_session
from .disposition import attachment

bp = Blueprint("fonds", __name__, url_prefix="/luu-tru")


@bp.route("/phong/")
@roles_required(*PACKAGE_READERS)
def index():
    return render_template("archivist/fonds_list.html", fonds=fonds_list(db_session()))


@bp.route("/phong/<unit_code>")
@roles_required(*PACKAGE_READERS)
def show(unit_code: str):
    fonds = fonds_view(db_session(), unit_code[:32])
    if fonds is None:
        abort(404)
    return render_template("archivist/fonds.html", fonds=fonds)


@bp.route("/phong/<unit_code>/mo-ta.json")
@roles_required(*PACKAGE_READERS)
def export(unit_code: str):
    """The fonds description (history, counts, dossiers) as a file to hand over with the fonds."""
    fonds = fonds_view(db_session(), unit_code[:32])
    if fonds is None:
        abort(404)
    body = json.dumps(fonds.as_dict(), ensure_ascii=False, indent=2)
    return Response(
        body, mimetype="application/json", headers={"Content-Disposition": attachment(f"phong-{fonds.code}.json")}
    )


@bp.route("/ho-so/<int:dossier_id>")
@roles_required(*PACKAGE_READERS)
def dossier(dossier_id: int):
    found = dossier_view(db_session(), dossier_id, archivist=True)
    if found is None:
        abort(404)
    return render_template("archivist/dossier.html", dossier=found, full=True)


@bp.route("/han-bao-quan")
@roles_required(*PACKAGE_READERS)
def retention():
    return render_template("archivist/retention.html", due=retention_due(db_session()), labels=DUE_LABELS)
