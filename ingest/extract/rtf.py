"""RTF: text by striprtf, decoded with the document's own ANSI code page."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from .base import Extraction, ExtractionRefused, ExtractLimits, Extractor, register, text_extraction

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")


@register("application/rtf")
class RtfExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        from striprtf.striprtf import rtf_to_text

        data = path.read_bytes()
        match = _CODEPAGE.search(data[:4096])
        encoding = f"cp{int(match.group(1))}" if match else "cp1252"
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding = "cp1252"
        if data.count(b"{") < data.count(b"}") or b"}" not in data[-64:]:
            raise ExtractionRefused("RTF hỏng: tệp bị cắt cụt (truncated RTF)")
        try:
            # RTF itself is 7-bit; latin-1 keeps any stray 8-bit byte as is.
            text = rtf_to_text(data.decode("latin-1"), encoding=encoding, errors="replace")
        except Exception as exc:
            raise ExtractionRefused(f"RTF hỏng, không đọc được (corrupt RTF: {type(exc).__name__})") from None
        return text_extraction(media_type, [text])
