"""JSON API, version 1: the same services and the same scope as the pages.

Machines authenticate with ``Authorization: Bearer <token>`` (``services.tokens``);
the portal's own session works too.  Anything outside the caller's scope is a
404, exactly like what does not exist.  Every response is described by
``archive_portal/openapi/v1.json`` (served at ``/api/v1/openapi.json``), and
every call is written to the audit trail.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, g, jsonify, request, send_file, url_for

from ..auth.limits import limit_search
from ..openapi import openapi_document
from ..services.documents import deliver_file, get_document, stamp_for
from ..services.search import FACET_TITLES, search_documents
from ..services.signatures import as_json as signatures_json
from ..services.stamp import StampError
from ..services.succession import get_new_unit, list_new_units
from ..web import current_archive, db_session
from .auditing import audit_event
from .bearer import identify, unauthorized
from .disposition import attachment

bp = Blueprint("api", __name__, url_prefix="/api/v1")

NOT_FOUND = "Không tìm thấy."
STAMP_REFUSED = "Tệp này không thể đóng dấu truy vết nên không được tải về bằng tài khoản này."
PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if identify() is None:
        return unauthorized()
    return None


def _caller():
    return g.api_caller


def _audit(action: str, target: str = "", **details: Any) -> None:
    caller = _caller()
    audit_event(action, account=caller.user, target=target, details={"via": caller.via, **details})


def _not_found(action: str, target: str):
    _audit(action, target, found=False)
    response = jsonify(error=NOT_FOUND)
    response.status_code = 404
    return response


def _date(value) -> str | None:
    return value.isoformat() if value else None


@bp.route("/openapi.json")
def openapi():
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/search")
@limit_search
def search():
    result = search_documents(db_session(), current_archive(), account_scope=_caller().scope, params=request.args)
    params = result.params
    _audit(
        "api_search",
        "",
        q=params.q,
        filters={k: v for k, v in params.to_args().items() if k not in ("q", "page")},
        total=result.total,
        page=params.page,
        error=result.error or "",
        ids=[hit.id for hit in result.hits],
    )
    if result.error:
        return jsonify(error=result.error), 503 if result.unavailable else 400
    return jsonify(
        total=result.total,
        total_is_lower_bound=result.total_is_lower_bound,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
        hits=[
            {
                "id": h.id,
                "ma_van_ban": h.ma_van_ban,
                "number": h.number,
                "issued_date": _date(h.issued_date),
                "issued_date_display": h.issued_date_display,
                "doc_type": h.doc_type,
                "direction": h.direction,
                "direction_label": h.direction_label,
                "subject": h.subject,
                "issuer": h.issuer,
                "unit_code": h.unit_code,
                "unit_name": h.unit_name,
                "snippet_html": str(h.snippet),
                "score": h.score,
                "url": url_for("documents.show", doc_id=h.id),
                "api_url": url_for("api.document", doc_id=h.id),
            }
            for h in result.hits
        ],
        facets={
            name: {"title": FACET_TITLES[name], "values": [asdict(v) for v in values]}
            for name, values in result.facets.items()
        },
    )


@bp.route("/documents/<int:doc_id>")
def document(doc_id: int):
    target = f"van-ban:{doc_id}"
    doc = get_document(db_session(), current_archive(), doc_id, _caller().scope)
    if doc is None:
        return _not_found("api_document", target)
    _audit("api_document", target)
    return jsonify(
        id=doc.id,
        unit_code=doc.unit_code,
        unit_name=doc.unit_name,
        ma_van_ban=doc.ma_van_ban,
        number=doc.number,
        issued_date=_date(doc.issued_date),
        issued_date_display=doc.issued_date_display,
        doc_type=doc.doc_type,
        direction=doc.direction,
        subject=doc.subject,
        issuer=doc.issuer,
        page_count=doc.page_count,
        flags=doc.flags,
        signature_status=doc.signature_status,
        signature_label=doc.signature_label,
        dossier=asdict(doc.dossier) if doc.dossier else None,
        fields=[asdict(f) for f in doc.fields],
        files=[
            {
                "id": f.id,
                "filename": f.filename,
                "media_type": f.media_type,
                "size": f.size,
                "status": f.status,
                "page_count": f.page_count,
                "download_url": url_for("documents.download", doc_id=doc.id, file_id=f.id) if f.available else None,
                "api_url": url_for("api.file", doc_id=doc.id, file_id=f.id) if f.available else None,
                "pages": [{"number": p.number, "text": p.text, "method": p.method} for p in f.pages],
                "signatures": signatures_json(f.signatures),
            }
            for f in doc.files
        ],
        url=url_for("documents.show", doc_id=doc.id),
        text_url=url_for("api.text", doc_id=doc.id),
    )


@bp.route("/documents/<int:doc_id>/text")
def text(doc_id: int):
    target = f"van-ban:{doc_id}"
    doc = get_document(db_session(), current_archive(), doc_id, _caller().scope)
    if doc is None:
        return _not_found("api_text", target)
    _audit("api_text", target)
    return jsonify(
        id=doc.id,
        pages=[
            {
                "file_id": f.id,
                "number": p.number,
                "text": p.text,
                "method": p.method,
                "ocr_confidence": p.ocr_confidence,
            }
            for f in doc.files
            for p in f.pages
        ],
    )


@bp.route("/documents/<int:doc_id>/files/<int:file_id>")
def file(doc_id: int, file_id: int):
    """The original bytes for archivists; a stamped PDF for accounts that receive copies."""
    target = f"van-ban:{doc_id}/tep:{file_id}"
    stamp = stamp_for(_caller().user)
    try:
        delivery = deliver_file(db_session(), current_archive(), doc_id, file_id, _caller().scope, stamp)
    except StampError as error:
        _audit("api_file_download", target, refused=str(error))
        return jsonify(error=STAMP_REFUSED), 403
    if delivery is None:
        return _not_found("api_file_download", target)
    if delivery.stream is not None:
        response = send_file(
            delivery.stream,
            mimetype=delivery.media_type,
            as_attachment=True,
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
            as_attachment=True,
            download_name=delivery.filename,
            conditional=True,
            max_age=0,
        )
    response.headers["Content-Disposition"] = attachment(delivery.filename)
    response.headers["Cache-Control"] = "private, no-store"
    _audit("api_file_download", target, filename=delivery.filename, sha256=delivery.sha256, stamped=delivery.stamped)
    return response


def _unit_json(unit) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "predecessors": [
            {
                "code": p.code,
                "name": p.name,
                "level": p.level,
                "parent_code": p.parent_code,
                "via": p.via,
                "basis": p.basis,
                "effective_date": _date(p.effective_date),
                "confidence": p.confidence,
            }
            for p in unit.predecessors
        ],
        "api_url": url_for("api.unit", code=unit.code),
    }


@bp.route("/units")
def units():
    user = _caller().user
    version, found = list_new_units(db_session(), sees_all=user.scope is None, own_code=user.new_unit_code)
    _audit("api_units", "", count=len(found))
    return jsonify(
        mapping_version=None
        if version is None
        else {
            "id": version.id,
            "source_name": version.source_name,
            "effective_date": _date(version.effective_date),
            "loaded_at": version.loaded_at.isoformat() + "Z",
        },
        units=[_unit_json(u) for u in found],
    )


@bp.route("/units/<code>")
def unit(code: str):
    user = _caller().user
    found = get_new_unit(db_session(), code[:32], sees_all=user.scope is None, own_code=user.new_unit_code)
    target = f"don-vi:{code[:32]}"
    if found is None:
        return _not_found("api_units", target)
    _audit("api_units", target)
    return jsonify(_unit_json(found))
