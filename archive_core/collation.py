"""Vietnamese alphabetical order (no PyICU wheel here): a sort key as a Vietnamese dictionary orders words.

Letters first, in the Vietnamese alphabet ``a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y``
(f j w z of foreign names in their Latin places); then, between words equal in letters, the tones
in dictionary order: ngang, huyền, hỏi, ngã, sắc, nặng; then lower case before upper case.
Runs of spaces count as one, so a stray double space no longer puts a name first.
"""

from __future__ import annotations

import unicodedata

__all__ = ["ALPHABET", "vietnamese_key"]

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve (ă), circumflex (â ê ô), horn (ơ ư): part of the letter
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_INDEX = {letter: i for i, letter in enumerate(ALPHABET)}

Key = tuple[tuple[tuple[int, int], ...], tuple[int, ...], tuple[int, ...]]


def vietnamese_key(text: str) -> Key:
    """Sort key of ``text`` in Vietnamese order (letters, then tones, then case)."""
    text = " ".join(unicodedata.normalize("NFC", text or "").split())
    primary: list[tuple[int, int]] = []
    tones: list[int] = []
    cases: list[int] = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        base, marks = parts[0], parts[1:]
        lower = base.lower()
        letter = unicodedata.normalize("NFC", lower + "".join(m for m in marks if m in _LETTER_MARKS))
        if char.isspace():
            primary.append((0, 0))
        elif letter.isdigit():
            primary.append((1, int(letter) if letter.isascii() else ord(letter)))
        elif letter in _INDEX:
            primary.append((2, _INDEX[letter]))
        else:
            primary.append((3, ord(letter)))
        tones.append(max((_TONES.get(m, 0) for m in marks), default=0))
        cases.append(0 if base == lower else 1)
    return tuple(primary), tuple(tones), tuple(cases)
