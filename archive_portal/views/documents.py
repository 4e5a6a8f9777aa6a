"""One document: its page, its originals (inline and download) and page images.

Every route asks the documents service with the account's scope; a document
outside it is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request, send_file, url_for

from ..auth import current_scope, roles_required
from ..services.bulk import MAX_BULK_DOCUMENTS, BulkRefused, build_zip, parse_ids
from ..services.documents import INLINE_TYPES, deliver_file, get_document, render_page_image
from ..services.roles import DOCUMENT_READERS
from ..services.search import parse_params
from ..services.stamp import StampError, stamp_png
from ..services.viewer import build_viewer
from ..web import current_archive, db_session
from . import error_response
from .auditing import audit_event, stamp_for_current_user
from .disposition import attachment

STAMP_REFUSED = (
    "Tệp này không thể đóng dấu người tải nên không được tải về; "
    "nội dung văn bản vẫn có trên trang văn bản. Vui lòng liên hệ cán bộ lưu trữ."
)

bp = Blueprint("documents", __name__, url_prefix="/van-ban")


@bp.route("/tai-nhieu")
@roles_required(*DOCUMENT_READERS)
def bulk_download():
    """The chosen documents (``?id=…`` repeated) in one zip: stamped copies, or originals for archivists."""
    try:
        ids = parse_ids(request.args.getlist("id"))
    except BulkRefused as error:
        audit_event("bulk_download", details={"refused": str(error)})
        return error_response(400, str(error))
    stamp = stamp_for_current_user()
    bundle = build_zip(db_session(), current_archive(), ids, current_scope(), stamp)
    if bundle is None:
        audit_event("bulk_download", target=",".join(f"van-ban:{i}" for i in ids), details={"found": False})
        abort(404)
    response = send_file(
        bundle.stream,
        mimetype="application/zip",
        as_attachment=True,
        download_name="van-ban.zip",
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Content-Disposition"] = attachment(f"van-ban-{len(bundle.documents)}.zip")
    response.headers["Cache-Control"] = "private, no-store"
    audit_event(
        "bulk_download",
        target=",".join(f"van-ban:{i}" for i in bundle.documents),
        details={
            "documents": bundle.documents,
            "sha256": bundle.files,
            "stamped": bundle.stamped,
            "left_out": bundle.left_out,
            "max": MAX_BULK_DOCUMENTS,
        },
    )
    return response


@bp.route("/<int:doc_id>")
@roles_required(*DOCUMENT_READERS)
def show(doc_id: int):
    doc = get_document(db_session(), current_archive(), doc_id, current_scope())
    if doc is None:
        audit_event("document_view", target=f"van-ban:{doc_id}", details={"found": False})
        abort(404)
    # The search it was opened from rides along: "« Tra cứu" restores it, its words are marked here.
    search_args = parse_params(request.args).to_args()
    find = request.args.get("tim", default=None, type=str)
    if find is None:
        find = str(search_args.get("q", ""))
    viewer = build_viewer(
        db_session(),
        current_archive(),
        doc,
        current_scope(),
        find=find,
        page_seq=request.args.get("trang", default=None, type=int),
    )
    audit_event("document_view", target=f"van-ban:{doc_id}", details={"unit_code": doc.unit_code, "number": doc.number})

    def here(**changes) -> str:
        """This document's URL with the search kept and ``changes`` applied (trang, tim)."""
        args = {**search_args, "tim": viewer.find if viewer.find != search_args.get("q", "") else ""}
        if viewer.current is not None:
            args["trang"] = viewer.current.seq
        args.update(changes)
        anchor = args.pop("_anchor", None)
        return url_for(
            "documents.show", doc_id=doc_id, _anchor=anchor, **{k: v for k, v in args.items() if v not in ("", None)}
        )

    def hit_url(hit: int) -> str:
        page = viewer.page_of_hit(hit)
        return here(trang=page.seq if page else "", _anchor=f"hit-{hit}")

    return render_template(
        "document.html",
        doc=doc,
        viewer=viewer,
        here=here,
        hit_url=hit_url,
        search_args=search_args,
        back_url=url_for("search.index", **search_args),
    )


@bp.route("/<int:doc_id>/tep/<int:file_id>/trang/<int:page_no>.png")
@roles_required(*DOCUMENT_READERS)
def page_image(doc_id: int, file_id: int, page_no: int):
    width = request.args.get("w", default=1000, type=int) or 1000
    png = render_page_image(db_session(), current_archive(), doc_id, file_id, page_no, current_scope(), width=width)
    target = f"van-ban:{doc_id}/tep:{file_id}/trang:{page_no}"
    if png is None:
        audit_event("page_image", target=target, details={"found": False})
        abort(404)
    stamp = stamp_for_current_user()
    if stamp is not None:
        png = stamp_png(png, stamp)
    audit_event("page_image", target=target, details={"stamped": stamp is not None})
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"  # document bytes are never kept by a browser or proxy
    return response


def _send(doc_id: int, file_id: int, action: str, *, inline: bool):
    """The original, or for accounts that get copies a stamped PDF; audited either way."""
    target = f"van-ban:{doc_id}/tep:{file_id}"
    stamp = stamp_for_current_user()
    try:
        delivery = deliver_file(
            db_session(),
            current_archive(),
            doc_id,
            file_id,
            current_scope(),
            stamp,
            only_types=INLINE_TYPES if inline else None,
        )
    except StampError as error:
        audit_event(action, target=target, details={"refused": str(error)})
        return error_response(403, STAMP_REFUSED)
    if delivery is None:
        audit_event(action, target=target, details={"found": False})
        abort(404)
    if inline:
        g.frameable = True  # shown in a frame of the document page
    if delivery.stream is not None:
        response = send_file(
            delivery.stream,
            mimetype=delivery.media_type,
            as_attachment=not inline,
            download_name=delivery.filename,
            conditional=False,
            etag=False,
            max_age=0,
        )
    else:
        assert delivery.path is not None  # a delivery is a stream or a stored file
        response = send_file(
            delivery.path,
            mimetype=delivery.media_type or "application/octet-stream",
            as_attachment=not inline,
            download_name=delivery.filename,
            conditional=True,
            max_age=0,
        )
    response.headers["Content-Disposition"] = attachment(delivery.filename, inline=inline)
    response.headers["Cache-Control"] = "private, no-store"
    # Audited once the response stands (a name the header cannot carry fails before, not after, the record).
    audit_event(
        action,
        target=target,
        details={
            "filename": delivery.filename,
            "sha256": delivery.sha256,
            "stamped": delivery.stamped,
        },
    )
    return response


@bp.route("/<int:doc_id>/tep/<int:file_id>/xem")
@roles_required(*DOCUMENT_READERS)
def view_inline(doc_id: int, file_id: int):
    return _send(doc_id, file_id, "file_inline", inline=True)


@bp.route("/<int:doc_id>/tep/<int:file_id>/tai-ve")
@roles_required(*DOCUMENT_READERS)
def download(doc_id: int, file_id: int):
    return _send(doc_id, file_id, "file_download", inline=False)
