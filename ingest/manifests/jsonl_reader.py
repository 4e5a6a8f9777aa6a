"""``documents.jsonl``: one JSON object per line; a broken line is reported, never fatal."""

from __future__ import annotations

import json
from pathlib import Path

from . import RawRows, register
from .csv_reader import decode_manifest_bytes


@register(".jsonl")
def read_jsonl(path: Path, warnings: list[str]) -> RawRows:
    text = decode_manifest_bytes(path.read_bytes(), warnings)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            warnings.append(f"Dòng {number} của documents.jsonl không phải JSON hợp lệ: {error.msg}")
            yield {"__invalid__": f"line {number}"}
            continue
        if not isinstance(record, dict):
            warnings.append(f"Dòng {number} của documents.jsonl không phải một đối tượng JSON")
            yield {"__invalid__": f"line {number}"}
            continue
        yield {
            str(k): (";".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v))
            for k, v in record.items()
        }
