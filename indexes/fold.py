"""Vietnamese folding shared by every engine and by the snippet highlighter.

``fold`` maps each character of NFC text to exactly one character (lower case,
tone and vowel marks removed, ``đ`` to ``d``), so an offset in the folded text
is the same offset in the original: highlighters find matches in the folded
text and mark the original.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

WORD_RE = re.compile(r"\w+", re.UNICODE)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    lower = char.lower()
    if len(lower) != 1:
        lower = char
    if lower == "đ":
        return "d"
    base = unicodedata.normalize("NFD", lower)[0]
    return base if len(base) == 1 else lower


class _FoldTable(dict):
    """``str.translate`` table equal to ``_fold_char`` char by char, filled on demand (in C once a
    character is known: folding a page is one call, not a Python call per character)."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        if len(self) < _TABLE_MAX:  # hostile text with every character of Unicode grows it no further
            self[code] = value
        return value


_TABLE_MAX = 65536
_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics, keeping the length of NFC text."""
    text = nfc(text)
    if text.isascii():
        return text.lower()
    return text.translate(_TABLE)


def exact(text: str) -> str:
    """Lower-case NFC text, tones kept: the form the exact-tone fields are indexed in."""
    return nfc(text).lower()


def words(text: str) -> list[str]:
    return WORD_RE.findall(text or "")


NUMBER_RE = re.compile(r"\b\d{1,6}\s*/\s*[\w\-Đđ]+(?:/[\w\-Đđ]+)*", re.UNICODE)


def normalize_number(value: str | None) -> str:
    """Canonical form of a number and symbol: ``74 / kh-ubnd`` -> ``74/KH-UBND``."""
    if not value:
        return ""
    return re.sub(r"\s+", "", fold(value)).upper()
