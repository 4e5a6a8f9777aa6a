"""``documents.csv``: UTF-8 with or without BOM; Windows-1258 detected and converted."""
from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

from . import RawRows, register


def decode_manifest_bytes(data: bytes, warnings: list[str]) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258", errors="replace")
        warnings.append("Bảng kê không phải UTF-8: đã đọc theo Windows-1258 và chuyển sang Unicode")
    return unicodedata.normalize("NFC", text)


@register(".csv")
def read_csv(path: Path, warnings: list[str]) -> RawRows:
    text = decode_manifest_bytes(path.read_bytes(), warnings)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
