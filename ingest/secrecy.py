"""The one place that decides whether a document is secret (contract section 3: secrecy fails closed).

Three sources can make a document secret, and any one of them withholds it:

* the manifest's ``do_mat`` (or an edXML message's confidentiality element): any
  value but empty or ``Thường`` -- after NFC, folding of diacritics and đ,
  trimming, and dropping every space and punctuation mark -- withholds.  An
  unknown word withholds too: the archivist reads the value in the report;
* a secrecy mark in the header zone of a document's text: the ``MẬT`` /
  ``TỐI MẬT`` / ``TUYỆT MẬT`` stamp that Nghị định 30/2020 puts by the number,
  alone on its line (also OCR'd with the tones lost, letters spaced, beside an
  urgency stamp such as ``KHẨN``).  Words such as "bí mật" or "bảo mật" in a
  sentence are not a mark, and the body below the header is not read;
* an edXML message whose header says it is confidential.

Every answer is a ``Secrecy``: the level shown on the archivist's pages and the
reason, naming the value that withheld, written in the ingest report.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from archive_core.db.models import Document
from indexes.fold import fold

CONFIDENTIALITY_MAX = 32  # the width of Document.confidentiality; the full value goes in the reason
NOT_SECRET = {"", "thuong"}  # compact folded values that do not withhold
# edXML numeric codes: 0 is the ordinary level (as for Priority); any other number withholds
EDXML_NOT_SECRET = NOT_SECRET | {"0"}
HEADER_LINES = 15  # the header zone: the first non-empty lines of a file's first page
# a line that starts the body ends the header zone
_BODY_START = re.compile(r"^(kinh gui|can cu|thuc hien|theo de nghi|xet de nghi)\b")
_MARK = r"(tuyetmat|toimat|mat)"
_URGENCY = r"(thuongkhan|khan|hoatochengio|hoatoc)"
_MARK_LINE = re.compile(rf"^(?:{_URGENCY})?{_MARK}(?:[abc])?(?:{_URGENCY})?$")
RELEASE_KEY = "giai_toa"  # Document.extra: an admin released it (a secrecy mark in its text no longer withholds it)
LEVEL_NAMES = {"mat": "Mật", "toimat": "Tối mật", "tuyetmat": "Tuyệt mật"}


@dataclass(frozen=True)
class Secrecy:
    """Why a document is withheld: ``level`` for Document.confidentiality, ``reason`` for the report."""

    level: str
    reason: str


def compact(value: str) -> str:
    """``Tối mật (A)``, ``TOI-MAT a`` and NFD ``tối  mật (a)`` all give ``toimata``."""
    return re.sub(r"[^a-z0-9]", "", fold(unicodedata.normalize("NFC", value or "")))


def clean(value: str) -> str:
    """The value as the archivist should read it: NFC, spaces collapsed, control characters gone."""
    text = unicodedata.normalize("NFC", value or "")
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(text.split())


def _level(value: str) -> str:
    """Document.confidentiality: the level's name for a plain level (``TUYET MAT``), else the value as given."""
    if compact(value) in LEVEL_NAMES:
        return LEVEL_NAMES[compact(value)]
    shown = clean(value)
    return shown if len(shown) <= CONFIDENTIALITY_MAX else shown[: CONFIDENTIALITY_MAX - 1] + "…"


def from_manifest(value: str, source: str = "bảng kê") -> Secrecy | None:
    """The manifest's ``do_mat`` (or the edXML header's, ``source``): anything but empty or ``Thường`` withholds."""
    if compact(value) in NOT_SECRET:
        return None
    return Secrecy(_level(value), f"Độ mật trong {source}: «{clean(value)}»")


def from_edxml(element: str, value: str) -> Secrecy | None:
    """An edXML header's confidentiality element (``element`` names it for the report)."""
    if compact(value) in EDXML_NOT_SECRET:
        return None
    return Secrecy(_level(value), f"Độ mật trong thông điệp edXML ({element}): «{clean(value)}»")


def header_zone(text: str) -> list[str]:
    """The first non-empty lines of a page, up to the first line that starts the body."""
    lines: list[str] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        if _BODY_START.match(" ".join(fold(unicodedata.normalize("NFC", line)).split())):
            break
        lines.append(line)
        if len(lines) >= HEADER_LINES:
            break
    return lines


def mark_in_line(line: str) -> str:
    """The level a line holds as a stamp (``toimat``...), or ``""``: the line is the mark and nothing else."""
    # a stamp OCR'd in its box: frame strokes read as | [ ] and the like are punctuation and go
    whole = compact(line)
    if "mat" not in whole:  # every level ends in "mat", and a part's compact form lies within the line's
        return ""
    match = _MARK_LINE.match(whole)
    if match:
        return match.group(2)
    # the stamp on the same text line as the number or the date, set apart by a wide gap
    for part in re.split(r"\s{3,}|\t", line):
        if part.strip() != line.strip():
            found = _MARK_LINE.match(compact(part))
            if found:
                return found.group(2)
    return ""


def from_text(first_page: str) -> Secrecy | None:
    """A secrecy stamp in the header zone of a file's first page."""
    for line in header_zone(first_page):
        level = mark_in_line(line)
        if level:
            return Secrecy(LEVEL_NAMES[level], f"Dấu độ mật ở phần đầu văn bản: «{clean(line)}»")
    return None


def from_document(document: Document) -> Secrecy | None:
    """A stamp on the first page of any of the document's files (none once an admin released it)."""
    if released(document):
        return None
    for file in document.files:
        if file.pages:
            found = from_text(file.pages[0].text or "")
            if found is not None:
                return found
    return None


def withhold_if_marked(document: Document) -> bool:
    """Finish-time check (``finalize``): withhold the document if its text carries a stamp."""
    found = None if document.withheld else from_document(document)
    if found is not None:
        mark_withheld(document, found.reason, found.level)
    return found is not None


def mark_withheld(document: Document, reason: str, level: str = "") -> None:
    """Set the flags on a loaded document (the caller commits, then deletes it from the engine)."""
    document.withheld = True
    document.withheld_reason = reason
    document.indexed_at = None
    if level:  # the level that withheld it replaces the ordinary one ("", "Thường") shown so far
        document.confidentiality = level
    extra = dict(document.extra or {})
    if extra.pop(RELEASE_KEY, None) is not None:
        document.extra = extra


def released(document: Document) -> bool:
    """An admin released it: a secrecy mark found in its text later does not withhold it again."""
    return RELEASE_KEY in (document.extra or {})
