"""Reading one document for display: metadata, files, page text, originals, page images.

Every function takes the caller's scope (old unit codes, None = all) and
answers None for a document that is missing, withheld or outside the scope,
so the views cannot tell (nor reveal) which of the three it was.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Blob, Document, DocumentFile, Dossier, OldUnit
from archive_core.filenames import download_name
from archive_core.pages import PageRefused, image_frame, pdf_page_image, to_png
from archive_core.store import blob_path
from ingest.dossiers import ACCESS_LABELS

from .fonds import retention_label
from .formatting import FIELD_LABELS, direction_label, format_date, source_label
from .pdfium_lock import PDFIUM_LOCK
from .roles import ORIGINAL_RECEIVERS
from .scope import may_read
from .signatures import FileSignatures, document_status, file_signatures, status_label
from .stamp import Stamp

log = logging.getLogger(__name__)

PDF_TYPES = {"application/pdf"}
IMAGE_TYPES = {"image/tiff", "image/png", "image/jpeg", "image/jpg"}
INLINE_TYPES = PDF_TYPES | {"image/png", "image/jpeg"}
MIN_WIDTH, MAX_WIDTH = 100, 2000
MAX_RENDER_PAGES = 10_000
MAX_HEIGHT = 8000  # pixels: a very tall page is scaled down rather than rendered huge
_PDFIUM_LOCK = PDFIUM_LOCK  # pdfium is not thread-safe: one lock with the stamps


@dataclass(frozen=True)
class MetaField:
    name: str
    label: str
    value: str
    source: str = ""  # manifest | text | ... ("" when unknown)
    source_label: str = ""


@dataclass(frozen=True)
class PageView:
    number: int
    text: str
    method: str
    ocr_confidence: float | None


@dataclass(frozen=True)
class FileView:
    id: int
    filename: str
    media_type: str
    size: int | None
    status: str
    reason: str
    page_count: int
    pages: list[PageView]
    available: bool  # the original is in the store
    inline: bool  # may be shown in the browser
    renderable: bool  # pages can be rendered as images
    signatures: FileSignatures | None = None  # PDFs only: the verdict on their digital signatures


@dataclass(frozen=True)
class DocumentView:
    id: int
    unit_code: str
    unit_name: str
    ma_van_ban: str
    number: str
    issued_date: date | None
    issued_date_display: str
    doc_type: str
    direction: str
    direction_label: str
    subject: str
    issuer: str
    fields: list[MetaField]
    flags: list[str]
    files: list[FileView]
    page_count: int
    extra: dict = field(default_factory=dict)
    signature_status: str = ""  # ingest.signatures status over the signed files ("" without PDFs)
    signature_label: str = ""
    dossier: DossierRef | None = None  # the hồ sơ it is filed in, with what it inherits


@dataclass(frozen=True)
class DossierRef:
    """The dossier a document is filed in: code, title, its order there, and the regime it inherits."""

    code: str
    title: str
    order: int | None
    retention: str
    access: str  # han_che | khong_han_che | ""
    access_label: str


def _dossier_ref(session: Session, doc: Document) -> DossierRef | None:
    if not doc.dossier:
        return None
    found = session.scalar(select(Dossier).where(Dossier.unit_code == doc.unit_code, Dossier.code == doc.dossier))
    if found is None:
        return DossierRef(doc.dossier, "", doc.dossier_order, "", "", "")
    return DossierRef(
        found.code,
        found.title,
        doc.dossier_order,
        retention_label(found),
        found.access,
        ACCESS_LABELS.get(found.access, found.access),
    )


@dataclass(frozen=True)
class OriginalFile:
    path: Path
    filename: str
    media_type: str
    size: int


def in_scope(unit_code: str, scope: frozenset[str] | None) -> bool:
    return scope is None or unit_code in scope


MAX_ID = 2**63 - 1


def _visible(session: Session, doc_id: int, scope: frozenset[str] | None) -> Document | None:
    if not (0 < doc_id <= MAX_ID):
        return None
    doc = session.get(Document, doc_id, options=[selectinload(Document.files).selectinload(DocumentFile.pages)])
    if doc is None or not may_read(doc, scope):
        return None
    return doc


def _field_value(doc: Document, name: str) -> str:
    if name == "issued_date":
        return format_date(doc.issued_date) or doc.issued_date_raw
    if name == "direction":
        return direction_label(doc.direction)
    value = getattr(doc, name)
    return "" if value is None else str(value)


def _file_view(
    archive: Archive, session: Session, f: DocumentFile, signed: dict[str, FileSignatures] | None = None
) -> FileView:
    blob = session.get(Blob, f.blob_sha256) if f.blob_sha256 else None
    available = blob is not None and blob_path(archive.settings.store_dir, blob.sha256).is_file()
    media = (f.media_type or (blob.media_type if blob else "")).lower()
    return FileView(
        id=f.id,
        filename=f.filename,
        media_type=media,
        size=blob.size if blob else None,
        status=f.status,
        reason=f.reason,
        page_count=f.page_count or len(f.pages),
        pages=[PageView(p.number, p.text, p.method, p.ocr_confidence) for p in f.pages],
        available=available,
        inline=available and media in INLINE_TYPES,
        renderable=available and media in (PDF_TYPES | IMAGE_TYPES),
        signatures=(signed or {}).get(f.blob_sha256 or ""),
    )


def get_document(session: Session, archive: Archive, doc_id: int, scope: frozenset[str] | None) -> DocumentView | None:
    """The document as a page shows it, or None (missing, withheld or out of scope)."""
    doc = _visible(session, doc_id, scope)
    if doc is None:
        return None
    unit = session.get(OldUnit, doc.unit_code)
    sources = doc.field_sources or {}
    fields = []
    for name, label in FIELD_LABELS.items():
        value = _field_value(doc, name)
        if not value:
            continue
        src = str(sources.get(name, "") or "")
        fields.append(MetaField(name, label, value, src, source_label(src)))
    signed = file_signatures(session, [f.blob_sha256 for f in doc.files])
    files = [_file_view(archive, session, f, signed) for f in doc.files]
    signature_status = document_status(signed)
    page_count = doc.page_count or sum(f.page_count for f in files)
    return DocumentView(
        id=doc.id,
        unit_code=doc.unit_code,
        unit_name=unit.name if unit else doc.unit_code,
        ma_van_ban=doc.ma_van_ban,
        number=doc.number,
        issued_date=doc.issued_date,
        issued_date_display=format_date(doc.issued_date) or doc.issued_date_raw,
        doc_type=doc.doc_type,
        direction=doc.direction,
        direction_label=direction_label(doc.direction),
        subject=doc.subject,
        issuer=doc.issuer,
        fields=fields,
        flags=[str(f) for f in (doc.flags or [])],
        files=files,
        page_count=page_count,
        extra=dict(doc.extra or {}),
        signature_status=signature_status,
        signature_label=status_label(signature_status),
        dossier=_dossier_ref(session, doc),
    )


def _visible_file(
    archive: Archive, session: Session, doc_id: int, file_id: int, scope: frozenset[str] | None
) -> tuple[DocumentFile, Blob, Path] | None:
    doc = _visible(session, doc_id, scope)
    if doc is None:
        return None
    f = next((f for f in doc.files if f.id == file_id), None)
    if f is None or not f.blob_sha256:
        return None
    blob = session.get(Blob, f.blob_sha256)
    if blob is None:
        return None
    path = blob_path(archive.settings.store_dir, blob.sha256)
    if not path.is_file():
        log.warning("original missing from the store: %s (file %s)", blob.sha256, f.id)
        return None
    return f, blob, path


def open_original(
    session: Session, archive: Archive, doc_id: int, file_id: int, scope: frozenset[str] | None
) -> OriginalFile | None:
    """Where the original of one file lives, with its name and type; None if not visible."""
    found = _visible_file(archive, session, doc_id, file_id, scope)
    if found is None:
        return None
    f, blob, path = found
    media = (f.media_type or blob.media_type or "application/octet-stream").lower()
    return OriginalFile(path=path, filename=f.filename or blob.sha256, media_type=media, size=blob.size)


# Roles that receive the stored bytes unchanged; every other account gets a stamped copy.
ORIGINAL_ROLES = ORIGINAL_RECEIVERS
STAMPABLE_IMAGES = IMAGE_TYPES | {"image/gif", "image/bmp"}


def stamp_for(user: Any) -> Stamp | None:
    """The stamp a copy for ``user`` (the portal's signed-in user) carries now; None for roles that receive originals."""
    if user.role in ORIGINAL_ROLES:
        return None
    return Stamp(username=user.username, unit_name=user.new_unit_name, at=utcnow())


@dataclass
class Delivery:
    """What a download or inline view sends: the original file, or a stamped copy in a temporary file."""

    filename: str
    media_type: str
    path: Path | None = None
    stream: BinaryIO | None = None
    stamped: bool = False
    sha256: str = ""


def deliver_file(
    session: Session,
    archive: Archive,
    doc_id: int,
    file_id: int,
    scope: frozenset[str] | None,
    stamp: Stamp | None,
    only_types: frozenset[str] | set[str] | None = None,
) -> Delivery | None:
    """The original (``stamp`` None) or a stamped PDF of it; None if not visible
    (or, with ``only_types``, if the original is of another type).

    Raises ``StampError`` when a copy must be stamped but cannot be: such a file
    is never handed out unstamped.
    """
    from .stamp import StampError, image_to_stamped_pdf, stamp_pdf

    found = _visible_file(archive, session, doc_id, file_id, scope)
    if found is None:
        return None
    f, blob, path = found
    media = (f.media_type or blob.media_type or "application/octet-stream").lower()
    filename, sha = download_name(f.filename, blob.sha256), blob.sha256  # safe in Content-Disposition
    if only_types is not None and media not in only_types:
        return None
    if stamp is None:
        return Delivery(filename=filename, media_type=media, path=path, sha256=sha)
    settings = archive.settings
    if media not in PDF_TYPES and media not in STAMPABLE_IMAGES:
        raise StampError(f"định dạng {media} không đóng dấu được")
    out = tempfile.TemporaryFile(dir=settings.scratch_dir, prefix="stamped-")  # noqa: SIM115 - handed to the response, which closes it
    try:
        if media in PDF_TYPES:
            stamp_pdf(path, out, stamp, settings.max_pdf_pages, settings.max_image_pixels)
        else:
            image_to_stamped_pdf(path, out, stamp, settings.max_pdf_pages, settings.max_image_pixels)
            filename = f"{Path(filename).stem or 'tep'}.pdf"
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return Delivery(filename=filename, media_type="application/pdf", stream=out, stamped=True, sha256=sha)


def render_page_image(
    session: Session,
    archive: Archive,
    doc_id: int,
    file_id: int,
    page_no: int,
    scope: frozenset[str] | None,
    width: int = 1000,
) -> bytes | None:
    """One page of a PDF or image file as PNG bytes, ``width`` pixels wide (clamped); None if not possible."""
    original = open_original(session, archive, doc_id, file_id, scope)
    if original is None or not (1 <= page_no <= MAX_RENDER_PAGES):
        return None
    width = max(MIN_WIDTH, min(MAX_WIDTH, int(width)))
    try:
        if original.media_type in PDF_TYPES:
            return _render_pdf(original.path, page_no, width)
        if original.media_type in IMAGE_TYPES:
            return _render_image(original.path, page_no, width, archive.settings.max_image_pixels)
    except Exception:  # a damaged original must not become a 500
        log.exception("cannot render page %s of file %s", page_no, file_id)
    return None


def _render_pdf(path: Path, page_no: int, width: int) -> bytes | None:
    with _PDFIUM_LOCK:
        try:
            rendered = pdf_page_image(
                path, page_no, fit=(width, MAX_HEIGHT), max_pixels=MAX_WIDTH * MAX_HEIGHT, grey=False
            )
        except PageRefused:
            return None
    return to_png(rendered.image)


def _render_image(path: Path, page_no: int, width: int, max_pixels: int) -> bytes | None:
    try:
        return to_png(image_frame(path, page_no, fit=(width, MAX_HEIGHT), max_pixels=max_pixels).image)
    except PageRefused:
        return None


@dataclass(frozen=True)
class NewUnitSummary:
    code: str
    name: str
    predecessors: list[tuple[str, str]]  # (code, name) of the old units it sees
    accounts: int


@dataclass(frozen=True)
class ArchiveOverview:
    documents: int
    withheld: int
    packages: int
    accounts: int
    new_units: list[NewUnitSummary]


def archive_overview(session: Session) -> ArchiveOverview:
    """Counts and the units mapping in force, for the administration page."""
    from sqlalchemy import func, select

    from archive_core.db.models import Account, NewUnit, Package

    from .scope import predecessors

    names = dict(session.execute(select(OldUnit.code, OldUnit.name)).all())
    per_unit = dict(
        session.execute(
            select(Account.new_unit_code, func.count())
            .where(Account.new_unit_code.is_not(None))
            .group_by(Account.new_unit_code)
        ).all()
    )
    units = [
        NewUnitSummary(
            code=unit.code,
            name=unit.name,
            predecessors=sorted(((c, names.get(c, c)) for c in predecessors(session, unit.code)), key=lambda p: p[1]),
            accounts=per_unit.get(unit.code, 0),
        )
        for unit in session.scalars(select(NewUnit).order_by(NewUnit.name))
    ]
    return ArchiveOverview(
        documents=session.scalar(select(func.count()).select_from(Document)) or 0,
        withheld=session.scalar(select(func.count()).select_from(Document).where(Document.withheld.is_(True))) or 0,
        packages=session.scalar(select(func.count()).select_from(Package)) or 0,
        accounts=session.scalar(select(func.count()).select_from(Account)) or 0,
        new_units=units,
    )
