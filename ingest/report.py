"""The ingest report of a package: counts and every row and file with its outcome, as JSON and HTML."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from archive_core.clock import format_local
from archive_core.context import Archive
from archive_core.db.models import BlobSignatures, Document, DocumentFile, Dossier, IngestItem, Package, Page

from .dossiers import ACCESS_LABELS
from .reocr import low_confidence_pages
from .signatures import STATUS_LABELS

OUTCOME_LABELS = {
    "indexed": "Đã đánh chỉ mục",
    "duplicate": "Trùng lặp",
    "withheld": "Giữ lại (mật)",
    "refused": "Từ chối",
}
KIND_LABELS = {
    "manifest": "Bảng kê",
    "row": "Dòng bảng kê",
    "file": "Tệp",
    "document": "Văn bản từ tệp",
    "package": "Gói",
    "attachment": "Đính kèm giải mã từ edXML",
}

PACKAGE_STATUS_LABELS = {"done": "Hoàn tất", "running": "Đang nhập / dở dang", "refused": "Bị từ chối"}
PACKAGE_FORM_LABELS = {
    "bag": "Gói BagIt",
    "folder": "Thư mục",
    "zip": "Tệp nén ZIP",
    "loose": "Tệp rời",
    "edxml": "Gói edXML",
}

_env = Environment(loader=PackageLoader("ingest", "templates"), autoescape=select_autoescape())


def _local_time(value: datetime | str | None) -> str:
    """A stored UTC time (or its ISO text, as the JSON report keeps it) in local time, the zone named."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if value else None
    return format_local(value, zone=True)


_env.filters["local_time"] = _local_time
TEMPLATE_LABELS = {
    "outcome_labels": OUTCOME_LABELS,
    "kind_labels": KIND_LABELS,
    "status_labels": PACKAGE_STATUS_LABELS,
    "form_labels": PACKAGE_FORM_LABELS,
}


def report_paths(archive: Archive, package_id: int) -> tuple[Path, Path]:
    base = archive.settings.reports_dir / f"package-{package_id}"
    return base.with_suffix(".json"), base.with_suffix(".html")


def build_report(archive: Archive, package_id: int) -> dict:
    with archive.db.session() as session:
        package = session.get(Package, package_id)
        if package is None:
            raise LookupError(f"no package #{package_id}")
        items = list(
            session.scalars(select(IngestItem).where(IngestItem.package_id == package_id).order_by(IngestItem.id))
        )
        pages = Counter(
            method
            for (method,) in session.execute(
                select(Page.method).join(DocumentFile).join(Document).where(Document.package_id == package_id)
            )
        )
        low_confidence = low_confidence_pages(session, package_id, archive.settings.ocr_min_confidence)
        summary = Counter((i.kind, i.outcome) for i in items)
        signed = [
            {"ma_van_ban": key, "file": name, "status": status, "label": STATUS_LABELS.get(status, status)}
            for key, name, status in session.execute(
                select(Document.ma_van_ban, DocumentFile.filename, BlobSignatures.status)
                .join(DocumentFile, DocumentFile.document_id == Document.id)
                .join(BlobSignatures, BlobSignatures.blob_sha256 == DocumentFile.blob_sha256)
                .where(Document.package_id == package_id)
                .order_by(Document.id, DocumentFile.position)
            )
        ]
        dossiers = [
            {
                "code": d.code,
                "title": d.title,
                "access": ACCESS_LABELS.get(d.access, d.access),
                "origin": d.origin,
                "flags": list(d.flags or []),
            }
            for d in session.scalars(select(Dossier).where(Dossier.package_id == package_id).order_by(Dossier.code))
        ]
        return {
            "package": {
                "id": package.id,
                "source_path": package.source_path,
                "form": package.form,
                "unit_code": package.unit_code,
                "source_organization": package.source_organization,
                "verified": package.verified,
                "status": package.status,
                "bag_info": package.bag_info,
                "started_at": package.started_at.isoformat() if package.started_at else None,
                "finished_at": package.finished_at.isoformat() if package.finished_at else None,
            },
            "warnings": package.warnings or [],
            "counts": {f"{kind}:{outcome}": n for (kind, outcome), n in sorted(summary.items())},
            "documents_added_this_run": (package.counts or {}).get("documents_added_this_run", 0),
            "pages": {"text": pages.get("text", 0), "ocr": pages.get("ocr", 0), "none": pages.get("none", 0)},
            "ocr_confidence_threshold": archive.settings.ocr_min_confidence,
            "low_confidence_pages": low_confidence,  # redo them with `archive reocr --package ID`
            # Digital signatures of the package's PDFs (``ingest.signatures``), unsigned ones counted only.
            "signatures": dict(sorted(Counter(x["status"] for x in signed).items())),
            "signed_files": [x for x in signed if x["status"] != "khong_ky"],
            "trust_roots_configured": bool(archive.settings.trust_roots),
            "dossiers": dossiers,
            "items": [
                {
                    "kind": i.kind,
                    "key": i.key,
                    "outcome": i.outcome,
                    "reason": i.reason,
                    "document_id": i.document_id,
                    "sha256": i.sha256 or None,
                    "size": i.size,
                }
                for i in items
            ],
        }


def write_report(archive: Archive, package_id: int) -> dict:
    """Build the report, write it as JSON and HTML (``report_paths``), and return it."""
    report = build_report(archive, package_id)
    json_path, html_path = report_paths(archive, package_id)
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    html = _env.get_template("report.html").render(report=report, **TEMPLATE_LABELS)
    html_path.write_text(html, encoding="utf-8")
    return report
