"""The corpus of real public Vietnamese administrative documents with their ground truth.

The documents live as one JSON file each under ``tests/data/real_documents/`` (see the README
there for sources, schema and conventions). This module only loads and checks them, so the
benchmarks and the extractor tests read one validated list instead of parsing files themselves.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "real_documents"

LEVELS = ("xa", "huyen", "tinh", "trung_uong")
TRUTH_KEYS = ("number", "issued_date", "doc_type", "issuer", "subject", "signer", "signer_title")
RECORD_KEYS = (
    "id", "source", "level", "era", "layout_notes", "truncated",
    "header_left", "header_right", "text", "body", "truth",
)


class CorpusError(ValueError):
    """A corpus file does not follow the schema described in the corpus README."""


def _check(record: dict[str, Any], name: str) -> None:
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise CorpusError(f"{name}: missing keys {missing}")
    if record["id"] != Path(name).stem:
        raise CorpusError(f"{name}: id {record['id']!r} differs from the file name")
    if record["level"] not in LEVELS:
        raise CorpusError(f"{name}: level {record['level']!r} not one of {LEVELS}")
    if not isinstance(record["era"], int) or not 1945 <= record["era"] <= 2100:
        raise CorpusError(f"{name}: era must be a year")
    for key in ("header_left", "header_right"):
        lines = record[key]
        if not isinstance(lines, list) or not all(isinstance(x, str) and x.strip() for x in lines):
            raise CorpusError(f"{name}: {key} must be a list of non-empty lines")
    if not (record["header_left"] or record["header_right"]) and "no letterhead" not in record["layout_notes"]:
        raise CorpusError(f"{name}: an empty header is allowed only for copies published without letterhead")
    if not record["text"].strip() or not record["body"].strip():
        raise CorpusError(f"{name}: empty text or body")
    if record["body"] not in record["text"]:
        raise CorpusError(f"{name}: body is not part of text")
    truth = record["truth"]
    if set(truth) != set(TRUTH_KEYS):
        raise CorpusError(f"{name}: truth keys {sorted(truth)} differ from {list(TRUTH_KEYS)}")
    for key, value in truth.items():
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise CorpusError(f"{name}: truth {key} must be a non-empty string or null")
    if truth["doc_type"] is None:
        raise CorpusError(f"{name}: every document has a type")
    if truth["issued_date"] is not None:
        try:
            dt.date.fromisoformat(truth["issued_date"])
        except ValueError as exc:
            raise CorpusError(f"{name}: issued_date {truth['issued_date']!r} is not an ISO date") from exc


def load_real_documents(directory: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    """Every corpus record, sorted by id, after checking each against the schema."""
    records = []
    for path in sorted(directory.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path.name}: not valid JSON ({exc})") from exc
        _check(record, path.name)
        records.append(record)
    return records
