"""Units mapping administration (admins): versions, successions in force, preview then apply a new file.

Loading a new mapping is two steps: the upload is parsed and compared with
the version in force (nothing changes), the file is kept in the data home
under its SHA-256, and a second CSRF-protected form applies exactly that file.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from ..auth import roles_required
from ..services.audit import to_local
from ..services.roles import ADMINS
from ..services.units import UnitsFileError, diff_mapping, import_mapping, list_versions, successions_in_force
from ..web import current_archive, db_session
from .auditing import audit_event

bp = Blueprint("units_admin", __name__, url_prefix="/quan-tri/don-vi")

MAX_UPLOAD = 8 * 1024 * 1024
SHA_RE = re.compile(r"^[0-9a-f]{64}$")


class UploadForm(FlaskForm):
    mapping = FileField("Tệp CSV bảng sắp xếp đơn vị", validators=[FileRequired("Chọn tệp CSV.")])


class ApplyForm(FlaskForm):
    sha256 = HiddenField(validators=[DataRequired(), Regexp(SHA_RE)])


def _pending_dir() -> Path:
    path = current_archive().settings.home / "pending" / "units"
    path.mkdir(parents=True, exist_ok=True)
    return path


@bp.record_once
def _limits(state) -> None:
    # The upload is checked by its own form's CSRF token (UploadForm); exempted from the app-wide
    # check only because that check reads the body before this view can raise the size limit.
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt("archive_portal.views.units_admin.preview")


def _page(**extra):
    session = db_session()
    versions = list_versions(session)
    units = successions_in_force(session)
    return render_template(
        "units_admin.html",
        versions=versions,
        units=units,
        to_local=to_local,
        upload=extra.pop("upload", None) or UploadForm(),
        **extra,
    )


@bp.route("/")
@roles_required(*ADMINS)
def index():
    audit_event("units_view", target="don-vi")
    return _page()


@bp.route("/xem-truoc", methods=["POST"])
@roles_required(*ADMINS)
def preview():
    request.max_content_length = MAX_UPLOAD
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(upload=form, error="Biểu mẫu không hợp lệ hoặc đã hết hạn; chọn lại tệp."), 400
    data = form.mapping.data.read(MAX_UPLOAD + 1)
    filename = Path(form.mapping.data.filename or "units.csv").name[:200]
    try:
        diff = diff_mapping(db_session(), data)
    except (UnitsFileError, UnicodeDecodeError) as error:
        return _page(upload=form, error=f"Không đọc được tệp đơn vị: {error}"), 400
    audit_event("units_preview", target=filename, details={"sha256": diff.sha256})
    pending = _pending_dir()
    (pending / f"{diff.sha256}.csv").write_bytes(data)
    (pending / f"{diff.sha256}.json").write_text(json.dumps({"filename": filename, "by": current_user.username}))
    return render_template("units_preview.html", diff=diff, filename=filename, apply=ApplyForm(sha256=diff.sha256))


@bp.route("/ap-dung", methods=["POST"])
@roles_required(*ADMINS)
def apply():
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    digest = form.sha256.data
    pending = _pending_dir()
    path, meta_path = pending / f"{digest}.csv", pending / f"{digest}.json"
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        flash("Tệp xem trước không còn (hoặc đã bị thay đổi); vui lòng tải lên lại.", "error")
        return redirect(url_for("units_admin.index"))
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    session = db_session()
    try:
        result = import_mapping(
            session, path, loaded_by=current_user.username, source_name=meta.get("filename") or path.name
        )
    except UnitsFileError as error:
        session.rollback()
        flash(f"Không nạp được tệp đơn vị: {error}", "error")
        return redirect(url_for("units_admin.index"))
    if not result.unchanged:
        audit_event(
            "units_import",
            target=f"phien-ban:{result.version_id}",
            details={
                "source": meta.get("filename", ""),
                "sha256": digest,
                "pairs": result.rows,
                "new_units": result.new_units,
            },
        )
    path.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    if result.unchanged:
        flash("Tệp này đã được nạp trước đó: không có gì thay đổi.", "info")
    else:
        flash(f"Đã nạp phiên bản #{result.version_id}: {result.rows} cặp, {result.new_units} đơn vị mới.", "info")
    return redirect(url_for("units_admin.index"))
