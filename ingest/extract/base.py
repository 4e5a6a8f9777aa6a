"""Types shared by every extractor, and the registry that maps media types to them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "ExtractedPage",
    "Extraction",
    "ExtractionRefused",
    "ExtractLimits",
    "Extractor",
    "register",
    "extractor_for",
    "registered_types",
    "letter_count",
    "has_letters",
    "nfc",
    "text_extraction",
]


@dataclass
class ExtractedPage:
    number: int  # 1-based
    text: str
    method: str  # "text" | "ocr" | "none"
    ocr_confidence: float | None = None
    word_boxes: dict | None = None  # OCR pages: {"w", "h", "words": [[text, left, top, width, height]]}


@dataclass
class Extraction:
    media_type: str
    pages: list[ExtractedPage]
    warnings: list[str] = field(default_factory=list)
    # The first page's positioned words (``ingest.metadata.layout.PageLayout``) when it came from a PDF
    # text layer, read in the pool process so finalising the document does not read the PDF again.
    first_page_layout: Any = None
    # What the metadata reader finds in this file as its document's first file (``job.first_file_metadata``),
    # read in the pool; finalising the document uses it when this file is its first.
    first_file_metadata: dict | None = None
    # A PDF that surely holds no digital signature (``archive_core.pages.signature_free``), found while it was
    # open for its text: its verdict is kept when it is saved, and the check before indexing skips it.
    signature_free: bool = False

    @property
    def text(self) -> str:
        return "\n\f\n".join(p.text for p in self.pages)


class ExtractionRefused(Exception):
    """The file cannot be read; `reason` goes into the ingest report as is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __reduce__(self):  # survive the trip back from a ProcessPoolExecutor worker
        return (type(self), (self.reason,))


@dataclass(frozen=True)
class ExtractLimits:
    ocr_languages: str = "vie"
    dpi: int = 300
    max_image_pixels: int = 120_000_000
    max_pages: int = 5000
    max_file_bytes: int = 512 * 1024 * 1024
    min_text_chars: int = 20  # letters a text layer needs before OCR is skipped
    # A PDF's first page read with its words' positions too (``Extraction.first_page_layout``), for the
    # metadata reader; off for a file whose document has every field already.
    first_page_layout: bool = True


class Extractor:
    """One file type. Subclasses set `media_types` and implement `extract`."""

    media_types: ClassVar[tuple[str, ...]] = ()

    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        raise NotImplementedError


_REGISTRY: dict[str, type[Extractor]] = {}


def register(*media_types: str) -> Callable[[type[Extractor]], type[Extractor]]:
    """Class decorator: `@register("application/pdf")`."""

    def decorate(cls: type[Extractor]) -> type[Extractor]:
        types = media_types or cls.media_types
        cls.media_types = tuple(types)
        for mt in types:
            _REGISTRY[mt] = cls
        return cls

    return decorate


def extractor_for(media_type: str) -> Extractor | None:
    cls = _REGISTRY.get(media_type)
    return cls() if cls else None


def registered_types() -> list[str]:
    return sorted(_REGISTRY)


def letter_count(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def has_letters(text: str, at_least: int) -> bool:
    """``letter_count(text) >= at_least``, reading only as far as needed (a page of text: a few dozen characters)."""
    if at_least <= 0:
        return True
    for ch in text:
        if ch.isalpha():
            at_least -= 1
            if not at_least:
                return True
    return False


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def text_extraction(
    media_type: str, texts: list[str], warnings: list[str] | None = None, *, legacy: bool = True
) -> Extraction:
    """An Extraction of text pages (no OCR), with TCVN3/VNI text converted and noted.

    A file that holds no text at all is refused: there is nothing to index.
    """
    from ingest.encodings import conversion_note, fix_legacy_texts

    warnings = list(warnings or [])
    texts = [nfc(t.replace("\r\n", "\n").replace("\r", "\n")).strip("\n") for t in texts]
    if legacy:
        texts, found = fix_legacy_texts(texts)
        if found:
            warnings.append(conversion_note(found))
    if not any(t.strip() for t in texts):
        raise ExtractionRefused("tệp không có nội dung văn bản (no text in the document)")
    pages = [ExtractedPage(i + 1, t, "text" if letter_count(t) else "none") for i, t in enumerate(texts)]
    return Extraction(media_type, pages, warnings)
