"""Saved and recent searches of the signed-in account (its own only; another's saved search is a 404)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth import roles_required
from ..services.roles import DOCUMENT_READERS
from ..services.saved_searches import MAX_SAVED, delete, recent, save, saved
from ..services.search import USER_ERRORS
from ..web import db_session
from .auditing import audit_event

bp = Blueprint("saved_searches", __name__, url_prefix="/tra-cuu-da-luu")


@bp.route("")
@roles_required(*DOCUMENT_READERS)
def index():
    session = db_session()
    return render_template(
        "saved_searches.html",
        saved=saved(session, current_user.account_id),
        recent=recent(session, current_user.username),
        max_saved=MAX_SAVED,
    )


@bp.route("", methods=["POST"])
@roles_required(*DOCUMENT_READERS)
def create():
    session = db_session()
    try:
        kept = save(session, current_user.account_id, request.form.get("name", ""), request.form)
    except USER_ERRORS as error:
        session.rollback()
        audit_event("search_saved", details={"refused": str(error)})
        flash(str(error), "error")
        return redirect(url_for("saved_searches.index"))
    audit_event("search_saved", target=f"tim-kiem:{kept.id}", details={"name": kept.name, "args": kept.args})
    flash(f"Đã lưu tìm kiếm “{kept.name}”.", "info")
    return redirect(url_for("search.index", **kept.args))


@bp.route("/<int:search_id>/xoa", methods=["POST"])
@roles_required(*DOCUMENT_READERS)
def remove(search_id: int):
    if not delete(db_session(), current_user.account_id, search_id):
        audit_event("search_deleted", target=f"tim-kiem:{search_id}", details={"found": False})
        abort(404)
    audit_event("search_deleted", target=f"tim-kiem:{search_id}")
    flash("Đã xóa tìm kiếm đã lưu.", "info")
    return redirect(url_for("saved_searches.index"))
