"""Withhold a document (archivists and admins) or release it (admins only), with a reason, audited.

The same two actions as ``archive withhold`` / ``archive release``; CSRF-protected
POSTs.  The page shows a withheld document's facts to archivists and admins only,
so they can review it; no other role ever reaches it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from archive_core.errors import UserError

from ..auth import roles_required
from ..forms import ReasonForm
from ..services import withholding
from ..services.withholding import RELEASERS, WITHHOLDERS
from ..web import current_archive, db_session
from .auditing import audit_event

bp = Blueprint("withholding", __name__, url_prefix="/luu-tru")


@bp.route("/giu-lai")
@roles_required(*WITHHOLDERS)
def index():
    documents = withholding.withheld_documents(db_session())
    audit_event("withheld_list_view", details={"count": len(documents)})
    return render_template("archivist/withheld.html", documents=documents)


@bp.route("/van-ban/<int:document_id>")
@roles_required(*WITHHOLDERS)
def show(document_id: int):
    view = withholding.document_view(db_session(), document_id)
    if view is None:
        abort(404)
    audit_event("withholding_view", target=f"van-ban:{document_id}")
    return render_template(
        "archivist/withholding.html", doc=view, form=ReasonForm(), may_release=current_user.role in RELEASERS
    )


def _act(document_id: int, action: str) -> object:
    form = ReasonForm()
    target = f"van-ban:{document_id}"
    if not form.validate_on_submit():
        audit_event(f"document_{action}_refused", target=target, details={"error": "thiếu lý do hoặc CSRF"})
        flash("Cần ghi lý do (tối đa 500 ký tự).", "error")
        return redirect(url_for("withholding.show", document_id=document_id))
    change_of = withholding.withhold if action == "withhold" else withholding.release
    try:
        change = change_of(
            current_archive(), document_id, form.reason.data, role=current_user.role, by=current_user.username
        )
    except UserError as error:
        audit_event(
            f"document_{action}_refused", target=target, details={"reason": form.reason.data, "error": str(error)}
        )
        flash(str(error), "error")
        return redirect(url_for("withholding.show", document_id=document_id))
    audit_event(
        f"document_{action}",
        target=target,
        details={
            "reason": form.reason.data,
            "changed": change.changed,
            "unit_code": change.unit_code,
            "previous": change.previous_reason,
        },
    )
    if action == "withhold":
        flash(
            "Đã giữ lại: văn bản không còn tra cứu được." if change.changed else "Văn bản đã bị giữ lại từ trước.",
            "info",
        )
    elif change.pending_files:
        flash(
            "Đã giải tỏa. Văn bản chưa được trích xuất (bị giữ lại khi nhập): tiến trình archive worker sẽ đọc và "
            "đánh chỉ mục.",
            "info",
        )
    else:
        flash("Đã giải tỏa: văn bản tra cứu được trở lại." if change.changed else "Văn bản không bị giữ lại.", "info")
    return redirect(url_for("withholding.show", document_id=document_id))


@bp.route("/van-ban/<int:document_id>/giu-lai", methods=["POST"])
@roles_required(*WITHHOLDERS)
def withhold(document_id: int):
    return _act(document_id, "withhold")


@bp.route("/van-ban/<int:document_id>/giai-toa", methods=["POST"])
@roles_required(*RELEASERS)
def release(document_id: int):
    return _act(document_id, "release")
