"""Metadata read from the text of an administrative document (export contract, section 5).

The layout is that of Nghị định 30/2020 and its predecessors: issuing body and number top
left; the national motto (or ĐẢNG CỘNG SẢN VIỆT NAM, ĐOÀN TNCS HỒ CHÍ MINH) and the place
and date top right; the type line and subject; the body; the signature block beside or
before `Nơi nhận`. Fields that are not in the text are left out rather than guessed.

* ``read_metadata(text)`` reads plain text (a PDF text layer, OCR) in whatever column order;
* ``read_metadata_pages(pages, first_page)`` also takes the first page's layout
  (``layout.PageLayout`` from the PDF text layer's letter boxes or Tesseract word boxes), whose header columns are
  separated as a person sees them;
* ``metadata_text(pages)`` is the text to read: the first two pages and the last one;
* ``read_document_metadata(pages, first_original, ...)`` is what ingest calls at finalisation.

Modules: ``header`` (columns, number, date, issuer), ``title`` (type and subject),
``signature`` (signer and title), ``doctypes``, ``folding``, ``layout`` (positioned words).
"""

from __future__ import annotations

from pathlib import Path

from .doctypes import DOC_TYPES, normalize_doc_type, type_from_number
from .folding import clean_lines, fold, fold_keep
from .header import (
    Header,
    find_date,
    find_issuer,
    find_number,
    is_title_line,
    opens_body,
    readable_issuer,
    split_header,
)
from .layout import PageLayout, pdf_first_page_layout
from .signature import find_signature
from .title import leading_subject, subject_after_title, subject_vv, title_of

__all__ = [
    "DOC_TYPES",
    "read_metadata",
    "read_document_metadata",
    "read_metadata_pages",
    "metadata_text",
    "normalize_doc_type",
    "fold",
    "fold_keep",
    "readable_issuer",
]

_TITLE_SEARCH = 12


def metadata_text(pages: list[str]) -> str:
    """The pages metadata is read from: the first two (header, title) and the last (signature)."""
    wanted = sorted({0, 1, len(pages) - 1} & set(range(len(pages))))
    return "\n".join(pages[i] for i in wanted)


def read_metadata(text: str) -> dict[str, object]:
    """Fields found in the text, among number, issued_date, issued_date_raw, place, doc_type,
    subject, issuer, signer, signer_title. Fields not found are absent."""
    lines = clean_lines(text)
    if not lines:
        return {}
    return _read(lines, split_header(lines, [fold_keep(line) for line in lines]))


def read_metadata_pages(pages: list[str], first_page: PageLayout | None = None) -> dict[str, object]:
    """Like ``read_metadata(metadata_text(pages))``, with the first page's columns taken from
    its layout when one is given (positions from the PDF text layer or Tesseract)."""
    if first_page is None or not first_page.header_right:
        return read_metadata(metadata_text(pages))
    rest = "\n".join(pages[i] for i in sorted({1, len(pages) - 1} - {0}) if i < len(pages))
    left, right = clean_lines("\n".join(first_page.header_left)), clean_lines("\n".join(first_page.header_right))
    body = clean_lines("\n".join(first_page.body)) + clean_lines(rest)
    lines = left + right + body
    head = Header(left=list(left), right=list(right), end=len(left) + len(right))
    for i in range(head.end, min(head.end + _TITLE_SEARCH, len(lines))):
        if is_title_line(lines[i], fold_keep(lines[i])):
            head.title = i
            break
        if opens_body(lines[i]):
            break
    return _read(lines, head)


def read_document_metadata(
    pages: list[str],
    first_original: Path | None = None,
    *,
    first_page_from_text_layer: bool = False,
    first_page_layout: PageLayout | None = None,
) -> dict[str, object]:
    """What ingest reads when a document is finalised: its first file's page texts, and, when
    the first page came from a PDF text layer, that page's layout read from the original by
    pypdfium2 (so the letterhead's columns separate as printed). A layout that disagrees
    with the stored text (a legacy-font layer the extractor converted) is not used."""
    layout = first_page_layout  # read by the extraction already, when at hand
    if layout is None and first_original is not None and first_page_from_text_layer and pages:
        try:
            with open(first_original, "rb") as fh:
                is_pdf = fh.read(1024).lstrip().startswith(b"%PDF")
        except OSError:  # the original is not at hand: the text alone is read
            is_pdf = False
        layout = pdf_first_page_layout(first_original) if is_pdf else None
    if layout is not None and (not pages or not _agrees(layout.text(), pages[0])):
        layout = None
    return read_metadata_pages(pages, layout)


def _agrees(layout_text: str, page_text: str) -> bool:
    words = set(fold(layout_text).split())
    page = set(fold(page_text).split())
    return bool(words) and len(words & page) >= 0.8 * len(words)


def _read(lines: list[str], head: Header) -> dict[str, object]:
    out: dict[str, object] = {}
    number = find_number(head.left)
    if number:
        out["number"] = number[0]
    out.update(find_date(head.right + head.left))
    issuer = find_issuer(head.left, head.right, number[1] if number else None)
    if issuer:
        out["issuer"] = issuer
    subject = None
    vv = subject_vv(head.left)
    if head.title is not None:
        out["doc_type"] = title_of(lines[head.title])[0]
        subject = subject_after_title(lines, head.title, issuer)
    elif vv:
        out["doc_type"] = "Công văn"
    else:
        subject = leading_subject(lines, head.end, issuer)
    subject = subject or vv
    if subject:
        out["subject"] = subject
    if "doc_type" not in out and number:
        from_number = type_from_number(number[0])
        if from_number:
            out["doc_type"] = from_number
    body_start = head.title + 1 if head.title is not None else head.end
    out.update(find_signature(lines, body_start))
    return out
