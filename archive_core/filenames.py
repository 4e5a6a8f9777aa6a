"""Safe names for files handed out (``Content-Disposition``): no path, no control characters, no quotes.

A file's name comes from an export package (its path, an edXML AttachmentName, a
Unit-Code in a URL): it may hold CR/LF (a header split, or a 500 when the server
refuses it), quotes, ``;`` or ``/``.  The name kept in the database stays as
given, for the archivist; only what goes into a header is cleaned here.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 150
_UNSAFE = re.compile(r'["\\/:*?<>|;=]+')


def download_name(name: str | None, fallback: str = "tep") -> str:
    """``a"b\\r\\nX: 1/../c.pdf`` -> ``c.pdf``; Vietnamese letters kept (NFC); never empty."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text)
    text = _UNSAFE.sub("_", " ".join(text.split())).strip(" ._")
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else text[:MAX_NAME]
    if text:
        return text
    return download_name(fallback) if fallback and fallback != "tep" else "tep"
