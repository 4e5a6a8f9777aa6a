"""JSON API, version 1: the same services and the same scope as the pages."""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import login_required

from ..auth import current_scope
from ..services.documents import get_document
from ..services.search import FACET_TITLES, search_documents

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.route("/search")
@login_required
def search():
    result = search_documents(current_app.extensions["archive"], account_scope=current_scope(), params=request.args)
    if result.error:
        return jsonify(error=result.error), 503 if result.unavailable else 400
    return jsonify(
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
        hits=[
            {
                "id": h.id,
                "number": h.number,
                "issued_date": h.issued_date.isoformat() if h.issued_date else None,
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
@login_required
def document(doc_id: int):
    doc = get_document(current_app.extensions["archive"], doc_id, current_scope())
    if doc is None:
        return jsonify(error="Không tìm thấy văn bản."), 404
    return jsonify(
        id=doc.id,
        unit_code=doc.unit_code,
        unit_name=doc.unit_name,
        ma_van_ban=doc.ma_van_ban,
        number=doc.number,
        issued_date=doc.issued_date.isoformat() if doc.issued_date else None,
        issued_date_display=doc.issued_date_display,
        doc_type=doc.doc_type,
        direction=doc.direction,
        subject=doc.subject,
        issuer=doc.issuer,
        page_count=doc.page_count,
        flags=doc.flags,
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
                "pages": [{"number": p.number, "text": p.text, "method": p.method} for p in f.pages],
            }
            for f in doc.files
        ],
        url=url_for("documents.show", doc_id=doc.id),
    )
