"""The OpenAPI document of the JSON API: one data file (``v1.json``), served as it is.

The tests run schemathesis against this document and the real application,
so the file and the behaviour cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parent / "v1.json"


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))
