"""Folded text: fixed words are matched without diacritics and case, at the same positions.

Text from PDF layers and OCR comes with tone errors and stray case, so the fixed words
of a letter (``Số``, ``ngày``, the national motto) are matched on a *folded* copy (no
diacritics, lower case, đ→d) that keeps every character's position: a match there
slices the original text.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["fold", "fold_keep", "clean_lines", "is_upper_text", "strip_junk", "cut"]


@functools.cache  # a text has few distinct letters: each is folded once
def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    low = base.lower()
    return low if len(low) == 1 else base


class _FoldTable(dict):
    """``str.translate`` table equal to ``_fold_char``, filled on demand: once a character is known,
    a line folds in one C call instead of a Python call per character."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        if len(self) < 65536:  # text with every character of Unicode grows it no further
            self[code] = value
        return value


_TABLE = _FoldTable()


def fold_keep(text: str) -> str:
    """Fold an NFC string character by character: same length, same positions."""
    return text.translate(_TABLE)


def fold(text: str) -> str:
    """Diacritics removed, lower case, đ→d, spaces collapsed (for comparisons)."""
    return " ".join(fold_keep(unicodedata.normalize("NFC", text)).split())


def clean_lines(text: str) -> list[str]:
    """NFC lines with spaces collapsed; lines that hold no letter or digit (rules, stars) dropped."""
    # Ð (U+00D0, eth) is never Vietnamese: it is OCR's reading of Đ.
    text = unicodedata.normalize("NFC", text).replace("Ð", "Đ")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return [line for line in lines if any(c.isalnum() for c in line)]


def is_upper_text(s: str, ratio: float = 0.85) -> bool:
    letters = list(filter(str.isalpha, s))  # the letters and their upper ones counted in C, not per letter
    return len(letters) >= 2 and sum(map(str.isupper, letters)) / len(letters) >= ratio


_EDGE_JUNK = re.compile(r"^[^\w(“\"]+|[^\w)”\"]+$")


def _real(word: str) -> bool:
    return any(c.isalnum() and unicodedata.category(c) != "Lm" for c in word)


def strip_junk(s: str) -> str:
    """Rules, bullets and OCR specks at either end ('- ...', 'BỘ NỘI VỤ ˆ')."""
    words = s.split()
    while words and not _real(words[-1]):
        words.pop()
    while words and not _real(words[0]):
        words.pop(0)
    return _EDGE_JUNK.sub("", " ".join(words))


def cut(line: str, spans: list[tuple[int, int]]) -> list[str]:
    """The pieces of `line` outside `spans`."""
    pieces, pos = [], 0
    for a, b in sorted(spans):
        if a > pos:
            pieces.append(line[pos:a])
        pos = max(pos, b)
    pieces.append(line[pos:])
    return pieces
