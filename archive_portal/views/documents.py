"""One document: its page, its originals (inline and download) and page images.

Every route asks the documents service with the account's scope; a document
outside it is a 404, exactly like one that does not exist.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, render_template, request, send_file
from flask_login import login_required

from ..auth import current_scope
from ..services.documents import INLINE_TYPES, get_document, open_original, render_page_image

bp = Blueprint("documents", __name__, url_prefix="/van-ban")


@bp.route("/<int:doc_id>")
@login_required
def show(doc_id: int):
    doc = get_document(current_app.extensions["archive"], doc_id, current_scope())
    if doc is None:
        abort(404)
    return render_template("document.html", doc=doc)


@bp.route("/<int:doc_id>/tep/<int:file_id>/trang/<int:page_no>.png")
@login_required
def page_image(doc_id: int, file_id: int, page_no: int):
    width = request.args.get("w", default=1000, type=int) or 1000
    png = render_page_image(current_app.extensions["archive"], doc_id, file_id, page_no, current_scope(), width=width)
    if png is None:
        abort(404)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/<int:doc_id>/tep/<int:file_id>/xem")
@login_required
def view_inline(doc_id: int, file_id: int):
    original = open_original(current_app.extensions["archive"], doc_id, file_id, current_scope())
    if original is None or original.media_type not in INLINE_TYPES:
        abort(404)
    g.frameable = True  # shown in a frame of the document page
    response = send_file(
        original.path, mimetype=original.media_type, as_attachment=False,
        download_name=original.filename, conditional=True, max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<int:doc_id>/tep/<int:file_id>/tai-ve")
@login_required
def download(doc_id: int, file_id: int):
    original = open_original(current_app.extensions["archive"], doc_id, file_id, current_scope())
    if original is None:
        abort(404)
    response = send_file(
        original.path, mimetype=original.media_type or "application/octet-stream", as_attachment=True,
        download_name=original.filename, conditional=True, max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response
