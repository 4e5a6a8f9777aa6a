"""Plain text: UTF-8 (with or without BOM), else Windows-1258, TCVN3 or VNI; form feeds split pages."""

from __future__ import annotations

from pathlib import Path

from ingest.encodings import conversion_note, decode_single_byte

from .base import Extraction, Extractor, register, text_extraction


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name): "utf-8", "cp1258", "TCVN3" or "VNI"."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return decode_single_byte(data)


@register("text/plain")
class TextExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits) -> Extraction:
        text, encoding = decode(path.read_bytes())
        if encoding == "cp1258":
            warnings = ["không phải UTF-8, đọc theo cp1258 (decoded as cp1258)"]
        elif encoding != "utf-8":
            warnings = [conversion_note(encoding)]
        else:
            warnings = []
        pages = text.replace("\r\n", "\n").replace("\r", "\n").split("\f")
        if len(pages) > 1 and not pages[-1].strip("\n"):
            pages.pop()
        return text_extraction(media_type, pages, warnings)
