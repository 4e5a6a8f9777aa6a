"""``documents.csv``: UTF-8 with or without BOM; Windows-1258, TCVN3 and VNI detected and converted."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

from ..encodings import conversion_note, decode_single_byte, fix_legacy
from . import RawRows, register


def decode_manifest_bytes(data: bytes, warnings: list[str]) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text, encoding = decode_single_byte(data)
        if encoding == "cp1258":
            warnings.append("Bảng kê không phải UTF-8: đã đọc theo Windows-1258 và chuyển sang Unicode")
        else:
            warnings.append(f"Bảng kê: {conversion_note(encoding)} (phông chữ cũ)")
        return text
    # UTF-8 that still carries font-encoded text (a legacy file re-saved as UTF-8).
    text, legacy = fix_legacy(unicodedata.normalize("NFC", text))
    if legacy:
        warnings.append(f"Bảng kê: {conversion_note(legacy)} (phông chữ cũ)")
    return text


@register(".csv")
def read_csv(path: Path, warnings: list[str]) -> RawRows:
    text = decode_manifest_bytes(path.read_bytes(), warnings)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
