"""``Content-Disposition`` for everything handed out (RFC 6266 with RFC 8187 ``filename*``).

Header values must be Latin-1: a Vietnamese name put in ``filename="…"`` as is
fails (a 500), and a quote or CR/LF in it splits or breaks the header. The name
is first made safe (``archive_core.filenames.download_name``), then sent as an
ASCII fallback plus the exact UTF-8 name.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from archive_core.filenames import download_name


def ascii_fallback(name: str) -> str:
    """Diacritics dropped (đ → d), anything else outside printable ASCII replaced."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return "".join(c if 32 < ord(c) < 127 and c not in '"\\%' else "_" for c in plain) or "tep"


def attachment(name: str, *, inline: bool = False) -> str:
    safe = download_name(name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_fallback(safe)}\"; filename*=UTF-8''{quote(safe, safe='')}"
