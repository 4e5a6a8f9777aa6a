"""The ingest report of a package: counts and every row and file with its outcome, as JSON and HTML.

Its long lists (every item, every signed file) are read from the database as
the report is written, a batch at a time (``Rows``): the report of a package of
any size is written in the memory of a small one.  ``build_report`` gives the
whole report as one dict, for a page or a test."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_core.clock import format_local
from archive_core.context import Archive
from archive_core.db.models import BlobSignatures, Document, DocumentFile, Dossier, IngestItem, Package, Page

from .dossiers import ACCESS_LABELS
from .reocr import low_confidence_pages
from .signatures import STATUS_LABELS, UNSIGNED

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


class Rows:
    """One of the report's long lists (its items, its signed files), read from the database each time it
    is iterated, ``BATCH`` rows at a time: a package's report is written without ever being held whole.

    True when it has rows (so a template's ``{% if %}`` reads as it does for a list); ``len`` is the
    number counted when the report was built."""

    def __init__(self, archive: Archive, produce: Callable[[Session], Iterator[dict]], count: int) -> None:
        self._archive, self._produce, self._count = archive, produce, count

    def __iter__(self) -> Iterator[dict]:
        with self._archive.db.session() as session:
            yield from self._produce(session)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0


BATCH = 1000


def report_of(archive: Archive, package_id: int) -> dict:
    """The report of a package: its counts and facts read now, its items and signed files as ``Rows``."""
    threshold = archive.settings.ocr_min_confidence
    with archive.db.session() as session:
        package = session.get(Package, package_id)
        if package is None:
            raise LookupError(f"no package #{package_id}")
        of_package = Document.package_id == package_id
        summary = session.execute(
            select(IngestItem.kind, IngestItem.outcome, func.count())
            .where(IngestItem.package_id == package_id)
            .group_by(IngestItem.kind, IngestItem.outcome)
        ).all()
        pages = dict(
            session.execute(
                select(Page.method, func.count())
                .join(DocumentFile)
                .join(Document)
                .where(of_package)
                .group_by(Page.method)
            ).all()
        )
        signatures = dict(
            session.execute(
                select(BlobSignatures.status, func.count())
                .select_from(Document)
                .join(DocumentFile, DocumentFile.document_id == Document.id)
                .join(BlobSignatures, BlobSignatures.blob_sha256 == DocumentFile.blob_sha256)
                .where(of_package)
                .group_by(BlobSignatures.status)
            ).all()
        )
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
            "counts": {f"{kind}:{outcome}": n for kind, outcome, n in sorted(summary)},
            "documents_added_this_run": (package.counts or {}).get("documents_added_this_run", 0),
            "pages": {"text": pages.get("text", 0), "ocr": pages.get("ocr", 0), "none": pages.get("none", 0)},
            "ocr_confidence_threshold": threshold,
            "low_confidence_pages": low_confidence_pages(
                session, package_id, threshold
            ),  # `archive reocr --package ID`
            # Digital signatures of the package's PDFs (``ingest.signatures``), unsigned ones counted only.
            "signatures": dict(sorted(signatures.items())),
            "signed_files": Rows(
                archive,
                lambda s: _signed_files(s, package_id),
                sum(n for status, n in signatures.items() if status != UNSIGNED),
            ),
            "trust_roots_configured": bool(archive.settings.trust_roots),
            "dossiers": dossiers,
            "items": Rows(archive, lambda s: _items(s, package_id), sum(n for *_, n in summary)),
        }


def _signed_files(session: Session, package_id: int) -> Iterator[dict]:
    rows = session.execute(
        select(Document.ma_van_ban, DocumentFile.filename, BlobSignatures.status)
        .join(DocumentFile, DocumentFile.document_id == Document.id)
        .join(BlobSignatures, BlobSignatures.blob_sha256 == DocumentFile.blob_sha256)
        .where(Document.package_id == package_id, BlobSignatures.status != UNSIGNED)
        .order_by(Document.id, DocumentFile.position)
        .execution_options(yield_per=BATCH)  # streamed from the database, not fetched whole
    )
    for key, name, status in rows:
        yield {"ma_van_ban": key, "file": name, "status": status, "label": STATUS_LABELS.get(status, status)}


def _items(session: Session, package_id: int) -> Iterator[dict]:
    after = 0
    while True:
        rows = session.execute(
            select(
                IngestItem.id,
                IngestItem.kind,
                IngestItem.key,
                IngestItem.outcome,
                IngestItem.reason,
                IngestItem.document_id,
                IngestItem.sha256,
                IngestItem.size,
            )
            .where(IngestItem.package_id == package_id, IngestItem.id > after)
            .order_by(IngestItem.id)
            .limit(BATCH)
        ).all()
        for _, kind, key, outcome, reason, document_id, sha256, size in rows:
            yield {
                "kind": kind,
                "key": key,
                "outcome": outcome,
                "reason": reason,
                "document_id": document_id,
                "sha256": sha256 or None,
                "size": size,
            }
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


def build_report(archive: Archive, package_id: int) -> dict:
    """The whole report as one dict, its lists read in full (for a page or a test; ``write_report``
    writes a package's report without holding it)."""
    return {
        key: list(value) if isinstance(value, Rows) else value for key, value in report_of(archive, package_id).items()
    }


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def write_json(report: dict, out: Writable) -> None:
    """``report`` as ``json.dumps(report, ensure_ascii=False, indent=2)`` writes it, its ``Rows`` written
    as they are read."""

    def dumps(value: Any, depth: int) -> str:  # strings never hold a raw newline in JSON: safe to indent
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)

    out.write("{")
    for number, (key, value) in enumerate(report.items()):
        out.write(("," if number else "") + "\n  " + dumps(key, 1) + ": ")
        if not isinstance(value, Rows):
            out.write(dumps(value, 1))
            continue
        empty = True
        for row in value:
            out.write(("[" if empty else ",") + "\n    " + dumps(row, 2))
            empty = False
        out.write("[]" if empty else "\n  ]")
    out.write("\n}" if report else "}")


def write_report(archive: Archive, package_id: int) -> dict:
    """Write the report as JSON and HTML (``report_paths``), a batch of rows at a time, each file
    replaced whole once written; return it (``report_of``: its long lists are ``Rows``)."""
    written = report_of(archive, package_id)
    json_path, html_path = report_paths(archive, package_id)
    with _replacing(json_path) as out:
        write_json(written, out)
    with _replacing(html_path) as out:
        out.writelines(_env.get_template("report.html").generate(report=written, **TEMPLATE_LABELS))
    return written


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """A file written beside ``path`` that replaces it once complete (a reader, or a second run of the
    same package, never sees half a report)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
