"""The document viewer: one page at a time, the query's hits marked in its text and on its image.

Pages of every file of a document are numbered in one sequence (``trang`` 1..N).
Hits are counted across the whole document in reading order, so "next hit" can
lead to another page.  Boxes on the page image are fractions of the page
(0..1, origin top left): word boxes Tesseract gave at ingest for scanned pages
(``pages.word_boxes``), character boxes pypdfium2 reads from the stored original
for pages with a text layer.
"""

from __future__ import annotations

import bisect
import logging
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.context import Archive
from archive_core.db.models import Page
from indexes.base import Term
from indexes.highlight import match_spans
from indexes.query import QueryError, parse_text

from .documents import PDF_TYPES, DocumentView, open_original
from .pdfium_lock import PDFIUM_LOCK

log = logging.getLogger(__name__)

MAX_FIND_LENGTH = 200
THUMBNAIL_WINDOW = 12  # thumbnails shown on each side of the current page (a long register stays light)


@dataclass(frozen=True)
class Box:
    """A hit on the page image, as fractions of the page (origin top left)."""

    x: float
    y: float
    w: float
    h: float

    def svg(self, scale: int = 1000) -> dict[str, str]:
        return {
            "x": f"{self.x * scale:.1f}",
            "y": f"{self.y * scale:.1f}",
            "width": f"{self.w * scale:.1f}",
            "height": f"{self.h * scale:.1f}",
        }


@dataclass(frozen=True)
class ViewerPage:
    seq: int  # 1..N over the whole document
    file_id: int
    filename: str
    number: int  # the page within its file
    text: str
    method: str
    ocr_confidence: float | None
    renderable: bool
    media_type: str
    hits: int = 0
    first_hit: int = 0  # global number of its first hit (0 without hits)


@dataclass
class Viewer:
    find: str  # the words looked for ("" = none)
    terms: tuple[Term, ...]
    pages: list[ViewerPage]
    current: ViewerPage | None
    text_html: Markup = Markup("")
    boxes: list[Box] = field(default_factory=list)
    total_hits: int = 0
    error: str = ""

    @property
    def hit_pages(self) -> list[ViewerPage]:
        return [p for p in self.pages if p.hits]

    def page_of_hit(self, hit: int) -> ViewerPage | None:
        for page in self.pages:
            if page.hits and page.first_hit <= hit < page.first_hit + page.hits:
                return page
        return None

    @property
    def thumbnails(self) -> list[ViewerPage]:
        if self.current is None:
            return self.pages[: 2 * THUMBNAIL_WINDOW + 1]
        low = max(0, self.current.seq - 1 - THUMBNAIL_WINDOW)
        return self.pages[low : self.current.seq + THUMBNAIL_WINDOW]

    @property
    def prev_page(self) -> ViewerPage | None:
        return self.pages[self.current.seq - 2] if self.current and self.current.seq > 1 else None

    @property
    def next_page(self) -> ViewerPage | None:
        return self.pages[self.current.seq] if self.current and self.current.seq < len(self.pages) else None


def find_terms(text: str) -> tuple[tuple[Term, ...], str]:
    """The positive terms of the user's words (the search grammar), or an error message."""
    text = (text or "").strip()[:MAX_FIND_LENGTH]
    if not text:
        return (), ""
    try:
        terms, _numbers = parse_text(text)
    except QueryError as error:
        return (), str(error)
    return tuple(t for t in terms if not t.negated), ""


def mark_text(text: str, spans: list[tuple[int, int]], first_hit: int) -> Markup:
    """The page text escaped, each hit in <mark id="hit-N">."""
    out: list[str] = []
    pos = 0
    for i, (start, end) in enumerate(spans):
        out.append(str(escape(text[pos:start])))
        out.append(f'<mark id="hit-{first_hit + i}">{escape(text[start:end])}</mark>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def build_viewer(
    session: Session,
    archive: Archive,
    doc: DocumentView,
    scope: frozenset[str] | None,
    *,
    find: str,
    page_seq: int | None,
) -> Viewer:
    """The viewer of ``doc`` at page ``page_seq`` (None: the first page with a hit, else the first page)."""

    terms, error = find_terms(find)
    pages: list[ViewerPage] = []
    hit_no = 1
    for f in doc.files:
        for p in f.pages:
            text = unicodedata.normalize("NFC", p.text or "")
            count = len(match_spans(text, terms)) if terms else 0
            pages.append(
                ViewerPage(
                    seq=len(pages) + 1,
                    file_id=f.id,
                    filename=f.filename,
                    number=p.number,
                    text=text,
                    method=p.method,
                    ocr_confidence=p.ocr_confidence,
                    renderable=f.renderable,
                    media_type=f.media_type,
                    hits=count,
                    first_hit=hit_no if count else 0,
                )
            )
            hit_no += count
    viewer = Viewer(
        find=find.strip()[:MAX_FIND_LENGTH], terms=terms, pages=pages, current=None, total_hits=hit_no - 1, error=error
    )
    if not pages:
        return viewer
    if page_seq is not None and 1 <= page_seq <= len(pages):
        current = pages[page_seq - 1]
    else:
        current = next((p for p in pages if p.hits), pages[0])
    viewer.current = current
    spans = match_spans(current.text, terms) if terms else []
    viewer.text_html = mark_text(current.text, spans, current.first_hit)
    if terms and current.renderable:
        viewer.boxes = page_boxes(session, archive, doc.id, current, terms, scope)
    return viewer


def page_boxes(
    session: Session,
    archive: Archive,
    doc_id: int,
    page: ViewerPage,
    terms: tuple[Term, ...],
    scope: frozenset[str] | None,
) -> list[Box]:
    """Where the hits are on the page image: stored OCR word boxes, or pypdfium2's character boxes."""
    if page.method == "ocr":
        stored = session.scalar(select(Page.word_boxes).where(Page.file_id == page.file_id, Page.number == page.number))
        return ocr_boxes(stored or [], terms)
    if page.media_type not in PDF_TYPES:
        return []
    original = open_original(session, archive, doc_id, page.file_id, scope)
    if original is None:
        return []
    try:
        return pdf_text_boxes(original.path, page.number, terms)
    except Exception:  # a damaged original: the text is still marked
        log.exception("no character boxes for page %s of file %s", page.number, page.file_id)
        return []


def pdf_text_boxes(path: Path, number: int, terms: tuple[Term, ...]) -> list[Box]:
    """One box per line of each hit, from the characters pdfium places on the page."""
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
        try:
            if not 1 <= number <= len(pdf):
                return []
            page = pdf[number - 1]
            textpage = page.get_textpage()
            try:
                width, height = page.get_size()
                count = textpage.count_chars()
                chars = [textpage.get_text_range(i, 1) or " " for i in range(count)]
                text = "".join(c[:1] for c in chars)
                boxes: list[Box] = []
                for start, end in match_spans(text, terms):
                    boxes.extend(
                        _line_boxes(
                            [textpage.get_charbox(i) for i in range(start, end) if not text[i].isspace()], width, height
                        )
                    )
                return boxes
            finally:
                textpage.close()
                page.close()
        finally:
            pdf.close()


def _line_boxes(charboxes: list[tuple[float, float, float, float]], width: float, height: float) -> list[Box]:
    """Character boxes (left, bottom, right, top in PDF points) merged per line, as page fractions."""
    lines: list[list[float]] = []
    for left, bottom, right, top in charboxes:
        if right <= left or top <= bottom:
            continue
        line = lines[-1] if lines else None
        if line is not None and abs(line[1] - bottom) < (top - bottom) * 0.6 and left >= line[0] - 1:
            line[0], line[1] = min(line[0], left), min(line[1], bottom)
            line[2], line[3] = max(line[2], right), max(line[3], top)
        else:
            lines.append([left, bottom, right, top])
    pad = 1.5
    return [
        Box(
            x=max(0.0, (left - pad) / width),
            y=max(0.0, (height - top - pad) / height),
            w=(right - left + 2 * pad) / width,
            h=(top - bottom + 2 * pad) / height,
        )
        for left, bottom, right, top in lines
    ]


def ocr_boxes(stored: object, terms: tuple[Term, ...]) -> list[Box]:
    """Boxes of the OCR words that make up each hit; ``stored`` is ``{"w": W, "h": H, "words": [[text, x, y, w, h]]}``."""
    if not isinstance(stored, dict):
        return []
    try:
        width, height = float(stored["w"]), float(stored["h"])
        words = [(str(t), float(x), float(y), float(w), float(h)) for t, x, y, w, h in stored.get("words", [])]
    except (KeyError, TypeError, ValueError):
        return []
    if width <= 0 or height <= 0 or not words:
        return []
    # The words joined by single spaces: a hit's span tells which words it covers.
    text_parts, starts = [], []
    pos = 0
    for word in words:
        starts.append(pos)
        text_parts.append(word[0])
        pos += len(word[0]) + 1
    text = " ".join(text_parts)
    boxes: list[Box] = []

    for start, end in match_spans(text, terms):
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, end - 1) - 1
        for _t, x, y, w, h in words[first : last + 1]:
            boxes.append(Box(x=x / width, y=y / height, w=w / width, h=h / height))
    return boxes
