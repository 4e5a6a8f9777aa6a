"""Plain text: UTF-8 (with or without BOM), else Windows-1258; form feeds split pages."""

from __future__ import annotations

from pathlib import Path

from .base import ExtractedPage, Extraction, Extractor, letter_count, nfc, register


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace"), "cp1258"


@register("text/plain")
class TextExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits) -> Extraction:
        text, encoding = decode(path.read_bytes())
        text = nfc(text.replace("\r\n", "\n").replace("\r", "\n"))
        warnings = [] if encoding == "utf-8" else [f"không phải UTF-8, đọc theo {encoding} (decoded as {encoding})"]
        pages = [
            ExtractedPage(i + 1, chunk.strip("\n"), "text" if letter_count(chunk) else "none")
            for i, chunk in enumerate(text.split("\f"))
        ]
        if len(pages) > 1 and not pages[-1].text:
            pages.pop()
        return Extraction(media_type, pages, warnings)
