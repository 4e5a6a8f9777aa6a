"""Print views: a document (one sheet per page image, stamped for lookups) and the handover record (A4).

Pages of their own (no portal chrome), styled by ``print.css`` (CSP allows no inline style);
the browser's own print dialog makes the paper or the PDF.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from markupsafe import Markup

from ..auth import current_scope, roles_required
from ..services import packages
from ..services.documents import get_document
from ..services.formatting import now_zoned
from ..services.roles import DOCUMENT_READERS, PACKAGE_READERS
from ..web import current_archive, db_session
from .auditing import audit_event

bp = Blueprint("printing", __name__)


@bp.route("/van-ban/<int:doc_id>/in")
@roles_required(*DOCUMENT_READERS)
def document(doc_id: int):
    doc = get_document(db_session(), current_archive(), doc_id, current_scope())
    audit_event("document_print", target=f"van-ban:{doc_id}", details={"found": doc is not None})
    if doc is None:
        abort(404)
    return render_template("print/document.html", doc=doc, printed_at=now_zoned())


def _handover(**selector):
    record = packages.handover_record(current_archive(), **selector)
    target = f"goi:{selector['package_id']}" if "package_id" in selector else f"don-vi:{selector.get('unit_code', '')}"
    audit_event("handover_print", target=target[:300], details={"found": record is not None})
    if record is None:
        abort(404)
    return render_template("print/handover.html", record=record, fragment=Markup(packages.handover_fragment(record)))


@bp.route("/luu-tru/goi/<int:package_id>/bien-ban/in")
@roles_required(*PACKAGE_READERS)
def package_handover(package_id: int):
    return _handover(package_id=package_id)


@bp.route("/luu-tru/don-vi/<unit_code>/bien-ban/in")
@roles_required(*PACKAGE_READERS)
def unit_handover(unit_code: str):
    return _handover(unit_code=unit_code)
