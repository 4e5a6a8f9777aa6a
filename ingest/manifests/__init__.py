"""Manifest readers (``documents.csv`` / ``.jsonl`` / ``.xlsx``), registered by suffix.

Every reader yields raw rows as ``{header: value}`` dicts of strings; the
header matching, English aliases and value normalisation happen once, in
``read_manifest``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..encodings import conversion_note, fix_legacy_rows
from ..fields import PART_COLUMNS, canonical_column, header_key, split_attachments

RawRows = Iterator[dict[str, str]]
READERS: dict[str, Callable[[Path, list[str]], RawRows]] = {}
MANIFEST_STEM = "documents"


def register(*suffixes: str):
    def wrap(func: Callable[[Path, list[str]], RawRows]):
        for suffix in suffixes:
            READERS[suffix] = func
        return func

    return wrap


@dataclass
class Row:
    """One manifest row, normalised to the contract's column names."""

    line: int
    values: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.values.get("ma_van_ban", "").strip()


@dataclass
class Manifest:
    path: Path
    rows: list[Row]
    warnings: list[str]


def find_manifest(payload: Path) -> Path | None:
    for suffix in READERS:
        candidate = payload / f"{MANIFEST_STEM}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def normalize_row(line: int, raw: dict[str, str]) -> Row:
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    parts: dict[str, str] = {}
    for header, value in raw.items():
        if header is None:
            continue
        value = "" if value is None else str(value).strip()
        key = header_key(header)
        if key in PART_COLUMNS:
            parts[key] = value
            continue
        column = canonical_column(header)
        if column is None:
            if value:
                extra[str(header).strip()] = value
        elif value and not values.get(column):
            values[column] = value
    if parts and not values.get("so_ky_hieu"):
        number = "/".join(p for p in (parts.get("codenumber", ""), parts.get("codenotation", "")) if p)
        if number:
            values["so_ky_hieu"] = number
    return Row(line=line, values=values, extra=extra, attachments=split_attachments(values.get("tep_dinh_kem", "")))


def read_manifest(path: Path) -> Manifest:
    reader = READERS[path.suffix.lower()]
    warnings: list[str] = []
    raw_rows = list(reader(path, warnings))
    # Cells typed in a legacy font (TCVN3/VNI), e.g. in an xlsx: converted once for the whole sheet.
    raw_rows, legacy = fix_legacy_rows(raw_rows)
    if legacy:
        warnings.append(f"Bảng kê: {conversion_note(legacy)} (phông chữ cũ)")
    rows = [normalize_row(line, raw) for line, raw in enumerate(raw_rows, start=1)]
    return Manifest(path=path, rows=rows, warnings=warnings)


from . import csv_reader, jsonl_reader, xlsx_reader  # noqa: E402,F401  (registration)
