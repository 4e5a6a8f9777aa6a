"""Redo the OCR of chosen pages from the stored originals, without re-ingesting anything.

Pages are chosen by confidence (under ``settings.ocr_min_confidence`` by default, or
``below``), package, old unit or document. Each page is rendered again from its
original in the blob store, read with the current OCR (deskew, orientation,
settings' DPI and languages), and its text and confidence replaced when the new
reading is at least as confident. The documents whose text changed are re-indexed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile, Page
from archive_core.pages import PageRefused, page_image
from archive_core.store import blob_path

from . import secrecy
from .extract import ExtractionRefused, ExtractLimits
from .indexing import index_document
from .ocr import OcrFailed, ocr_image

__all__ = ["PageChange", "low_confidence_pages", "select_pages", "render_page", "reocr"]


@dataclass
class PageChange:
    page_id: int
    document_id: int
    ma_van_ban: str
    filename: str
    number: int
    old_confidence: float | None
    new_confidence: float | None
    replaced: bool
    note: str = ""


def low_confidence_pages(session: Session, package_id: int, threshold: float) -> list[dict]:
    """OCR'd pages of a package whose mean confidence is under `threshold` (for the ingest report)."""
    rows = session.execute(
        select(Document.id, Document.ma_van_ban, DocumentFile.path_in_package, Page.number, Page.ocr_confidence)
        .join(DocumentFile, DocumentFile.document_id == Document.id)
        .join(Page, Page.file_id == DocumentFile.id)
        .where(Document.package_id == package_id, Page.ocr_confidence.is_not(None), Page.ocr_confidence < threshold)
        .order_by(Document.id, DocumentFile.position, Page.number)
    ).all()
    return [
        {"document_id": d, "ma_van_ban": key, "file": path, "page": number, "confidence": confidence}
        for d, key, path, number, confidence in rows
    ]


def select_pages(
    session: Session,
    *,
    threshold: float,
    package_id: int | None = None,
    unit_code: str | None = None,
    document_id: int | None = None,
    below: float | None = None,
) -> list[Page]:
    """OCR'd pages chosen by the options; with no option at all, those under `threshold`."""
    query = (
        select(Page)
        .join(DocumentFile, Page.file_id == DocumentFile.id)
        .join(Document)
        .where(Page.ocr_confidence.is_not(None), Document.withheld.is_(False), DocumentFile.blob_sha256.is_not(None))
    )
    if package_id is not None:
        query = query.where(Document.package_id == package_id)
    if unit_code is not None:
        query = query.where(Document.unit_code == unit_code)
    if document_id is not None:
        query = query.where(Document.id == document_id)
    if below is None and package_id is None and unit_code is None and document_id is None:
        below = threshold
    if below is not None:
        query = query.where(Page.ocr_confidence < below)
    return list(session.scalars(query.order_by(Page.file_id, Page.number)))


def render_page(path: Path, media_type: str, number: int, limits: ExtractLimits) -> Image.Image:
    """Page `number` (1-based) of a stored original as an image, as the extractors render it."""
    try:
        return page_image(path, media_type, number, dpi=limits.dpi, max_pixels=limits.max_image_pixels).image
    except PageRefused as refused:
        raise ExtractionRefused(refused.reason) from None


def reocr(
    archive: Archive,
    *,
    package_id: int | None = None,
    unit_code: str | None = None,
    document_id: int | None = None,
    below: float | None = None,
    progress=None,
) -> list[PageChange]:
    """Re-OCR the selected pages, store better readings, re-index the documents that changed."""
    settings = archive.settings
    limits = ExtractLimits(
        ocr_languages=settings.ocr_languages,
        dpi=settings.ocr_dpi,
        max_image_pixels=settings.max_image_pixels,
        max_pages=settings.max_pdf_pages,
        max_file_bytes=settings.max_file_bytes,
    )
    with archive.db.session() as session:
        chosen = [
            (
                p.id,
                p.file.document_id,
                p.file.document.ma_van_ban,
                p.file.filename,
                p.number,
                p.ocr_confidence,
                p.file.blob_sha256,
                p.file.media_type,
            )
            for p in select_pages(
                session,
                threshold=settings.ocr_min_confidence,
                package_id=package_id,
                unit_code=unit_code,
                document_id=document_id,
                below=below,
            )
        ]
    changes: list[PageChange] = []
    for done, (page_id, doc_id, key, filename, number, old, sha, media_type) in enumerate(chosen, start=1):
        change = PageChange(page_id, doc_id, key, filename, number, old, None, False)
        try:
            image = render_page(blob_path(settings.store_dir, sha or ""), media_type, number, limits)
            result = ocr_image(image, limits.ocr_languages)
        except (ExtractionRefused, OcrFailed, OSError, EOFError) as error:
            change.note = getattr(error, "reason", None) or str(error)
        else:
            change.new_confidence = result.mean_confidence
            if old is None or result.mean_confidence >= old:
                with archive.db.transaction() as session:
                    page = session.get(Page, page_id)
                    assert page is not None  # pages are never deleted
                    page.text = result.text
                    page.ocr_confidence = result.mean_confidence
                    page.word_boxes = result.word_boxes()  # the viewer marks hits where this reading saw them
                    page.method = "ocr" if result.text.strip() else "none"
                change.replaced = True
        changes.append(change)
        if progress:
            progress(done, len(chosen))
    _reindex(archive, sorted({c.document_id for c in changes if c.replaced}))
    return changes


def _reindex(archive: Archive, document_ids: list[int]) -> None:
    """Re-index the documents already in the index (others are the ingest's business)."""
    for start in range(0, len(document_ids), 100):
        batch = document_ids[start : start + 100]
        with archive.db.transaction() as session:
            documents = list(
                session.scalars(
                    select(Document).where(
                        Document.id.in_(batch), Document.indexed_at.is_not(None), Document.withheld.is_(False)
                    )
                )
            )
            stamped = [d.id for d in documents if secrecy.withhold_if_marked(d)]  # better OCR may show the stamp
            if stamped:
                archive.engine.delete(stamped)
                documents = [d for d in documents if not d.withheld]
            if documents:
                archive.engine.index([index_document(session, d) for d in documents])
                now = utcnow()
                for document in documents:
                    document.indexed_at = now
