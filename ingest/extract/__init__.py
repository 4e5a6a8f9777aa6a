"""Text extraction: one extractor per file type, chosen by the file's content.

`extract(path, limits)` is a plain top-level function with picklable arguments and
results, so it can run in a ProcessPoolExecutor worker. Files that cannot be read
raise `ExtractionRefused` with a reason for the ingest report. `ingest.ocr.OcrUnavailable`
(Tesseract or its language data missing) is a fault of the machine, not of the file,
and is deliberately not turned into a refusal.
"""

from __future__ import annotations

from pathlib import Path

from . import doc, docx, html, image, odt, pdf, rtf, text, xls, xlsx  # noqa: F401  (register the extractors)
from .base import (
    ExtractedPage,
    Extraction,
    ExtractionRefused,
    ExtractLimits,
    Extractor,
    extractor_for,
    register,
    registered_types,
)
from .sniff import sniff, sniff_bytes

__all__ = [
    "ExtractedPage",
    "Extraction",
    "ExtractionRefused",
    "ExtractLimits",
    "Extractor",
    "extract",
    "extractor_for",
    "register",
    "registered_types",
    "sniff",
    "sniff_bytes",
]

_DEFAULT_LIMITS = ExtractLimits()


def extract(path: Path, limits: ExtractLimits = _DEFAULT_LIMITS) -> Extraction:
    """Extract the text of `path`, page by page; ExtractionRefused if it cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ExtractionRefused(f"không tìm thấy tệp (file not found: {path.name})") from None
    if size == 0:
        raise ExtractionRefused("tệp rỗng (0 byte)")
    if size > limits.max_file_bytes:
        raise ExtractionRefused(f"tệp quá lớn: {size} byte > {limits.max_file_bytes} (file too large)")
    media_type = sniff(path)
    extractor = extractor_for(media_type)
    if extractor is None:
        raise ExtractionRefused(f"định dạng chưa hỗ trợ: {media_type} (unsupported file type)")
    return extractor.extract(path, media_type, limits)
