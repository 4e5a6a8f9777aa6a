"""HTML: the visible text, with the standard library's parser; scripts and styles dropped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ingest.encodings import conversion_note, decode_single_byte

from .base import Extraction, ExtractLimits, Extractor, register, text_extraction

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)
_SKIP = {"script", "style", "noscript", "template", "head", "title", "svg"}
_BLOCK = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "address",
}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def decode_html(data: bytes) -> tuple[str, list[str]]:
    """Text of the bytes: BOM, then <meta charset>, then UTF-8, then Windows-1258/TCVN3/VNI."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), []
    match = _CHARSET.search(data[:4096])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"), errors="strict"), []
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        text, encoding = decode_single_byte(data)
        if encoding == "cp1258":
            return text, ["không phải UTF-8, đọc theo cp1258 (decoded as cp1258)"]
        return text, [conversion_note(encoding)]


@register("text/html")
class HtmlExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        text, warnings = decode_html(path.read_bytes())
        parser = _TextParser()
        parser.feed(text)
        parser.close()
        return text_extraction(media_type, [parser.text()], warnings)
