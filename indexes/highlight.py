"""Snippets with the hits marked, shared by every engine.

Matches are found in the folded text (``fold.fold`` keeps offsets), so a
query typed without diacritics marks the original words with them.  The
output is HTML-safe: the original text is escaped, matches wrapped in <mark>.

Bounded: at most ``SCAN_LIMIT`` characters are looked at, at most
``MAX_SPANS`` matches are collected, and the best window is found by bisecting
the matches' offsets (a body full of query words once cost seconds per hit).
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import islice

from .base import Term
from .fold import _fold_char, fold, nfc

SCAN_LIMIT = 200_000  # characters of a long body looked at for a snippet
MAX_SPANS = 5_000  # matches collected per text; the window lies among the first ones
_ALNUM = r"[^\W_]"
_NEVER = r"[^\s\S]"  # a class no character is in
_OPEN, _CLOSE = "\x01", "\x02"  # stand for <mark> and </mark> while a window is escaped
_MARKS = {_OPEN: "<mark>", _CLOSE: "</mark>"}


fast_fold = fold  # ``fold.fold`` folds through a ``str.translate`` table itself now


def _term_words(terms: Iterable[Term | str]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for term in terms:
        if isinstance(term, Term):
            if term.negated:
                continue
            words = term.words
        else:
            words = tuple(re.findall(r"[^\W_]+", term))
        folded = tuple(fast_fold(w) for w in words if w)
        if folded and folded not in out:
            out.append(folded)
    return out


@lru_cache(maxsize=1)
def _folded_from() -> dict[str, list[str]]:
    """Folded character -> the other characters of the BMP that fold to it (built once, ~20 ms): only
    a character with another case or a decomposition (or đ, or a Hangul syllable) can fold to another."""
    groups: dict[str, list[str]] = {}
    decomposition = unicodedata.decomposition
    for code in range(0x10000):
        char = chr(code)
        if (char.lower() != char or decomposition(char) or char == "đ" or 0xAC00 <= code <= 0xD7A3) and not (
            0xD800 <= code < 0xE000
        ):
            folded = _fold_char.__wrapped__(char)  # not through its cache: thousands of characters
            if folded != char:
                groups.setdefault(folded, []).append(char)
    return groups


@lru_cache(maxsize=4096)
def _chars(folded: str) -> tuple[str, ...]:
    """The characters of NFC text that fold to ``folded`` (a character of a folded word)."""
    chars = [folded] if _fold_char(folded) == folded else []
    chars += _folded_from().get(folded, [])
    if not chars and ord(folded) > 0xFFFF:  # beyond the BMP: its other case, if that folds to it
        chars = [c for c in (folded.upper(), folded.lower()) if _fold_char(c) == folded][:1]
    return tuple(chars)


def _letter(folded: str) -> str:
    """``_chars(folded)`` as a regex."""
    chars = _chars(folded)
    if len(chars) == 1:
        return re.escape(chars[0])
    return "[" + "".join(map(re.escape, chars)) + "]" if chars else _NEVER


@lru_cache(maxsize=256)
def _pattern_of(terms: tuple[Term | str, ...]) -> re.Pattern[str] | None:
    phrases = _term_words(terms)
    if not phrases:
        return None
    # Longer phrases first so "ke hoach" wins over "ke" at the same place.
    phrases.sort(key=lambda p: -sum(len(w) for w in p))
    # Run on the text itself, not on its folding (a third of a snippet's time): each letter of a
    # folded word is the class of the characters that fold to it, so the spans are those the folded
    # text gives (tested).
    #
    # The pattern begins with one class, every character a match can begin with: the regex engine
    # then skips in C to the next such character instead of trying every phrase at every place (a
    # lookbehind or an alternation in front defeats that scan: 2.3 times the time on real bodies).
    # Phrases whose first letters differ cannot begin at the same place (a character folds to one
    # letter), so they are grouped by first letter, each group keeping the order above. Boundaries
    # as before: no letter or digit just before the match (looked at once its first character is
    # taken) nor just after it; "_" or a combining mark may touch it.
    groups: dict[str, list[str]] = {}
    for phrase in phrases:
        first = phrase[0][0]
        if _chars(first):  # else the phrase never matches
            rest = r"[\W_]+".join("".join(map(_letter, w)) for w in phrase)[len(_letter(first)) :]
            groups.setdefault(first, []).append(rest)
    if not groups:
        return re.compile(_NEVER)
    starts = "".join(re.escape(c) for first in groups for c in _chars(first))
    if len(groups) == 1:
        (rests,) = groups.values()
        body = "|".join(rests)
    else:
        body = "|".join(f"(?<={_letter(first)})(?:{'|'.join(rests)})" for first, rests in groups.items())
    return re.compile(rf"[{starts}](?<!{_ALNUM}[\s\S])(?:{body})(?!{_ALNUM})")


def _pattern(terms: Iterable[Term | str]) -> re.Pattern[str] | None:
    return _pattern_of(tuple(terms))


def match_spans(text: str, terms: Iterable[Term | str]) -> list[tuple[int, int]]:
    """(start, end) of each match of the positive terms in NFC ``text``."""
    pattern = _pattern(terms)
    if pattern is None or not text:
        return []
    return [m.span() for m in islice(pattern.finditer(text), MAX_SPANS)]


def _spaced(text: str) -> str:
    """``re.sub(r"\\s+", " ", text)`` in a third of its time (``str.split`` knows the same spaces)."""
    joined = " ".join(text.split())
    if not joined:
        return " " if text else ""
    return f"{' ' if text[0].isspace() else ''}{joined}{' ' if text[-1].isspace() else ''}"


def _esc(text: str) -> str:
    return html.escape(_spaced(text), quote=True)


def _window(text: str, starts: list[int], ends: list[int], max_chars: int) -> tuple[int, int]:
    """The stretch of ``max_chars`` holding the most matches, cut at spaces.

    The matches' ``starts`` and ``ends`` come from ``finditer``: ordered and
    disjoint, so both grow and the matches inside a window are found by
    bisection (n log n in C, not the n * n of counting them one by one).
    """
    if not starts:
        end = min(len(text), max_chars)
        return 0, end
    lead = max_chars // 4
    # Each window begins a little before a match; the first holding the most matches wins.
    window_starts = [start - lead if start > lead else 0 for start in starts]
    counts = [bisect_right(ends, w + max_chars) - bisect_left(starts, w) for w in window_starts]
    ws = window_starts[counts.index(max(counts))]
    if ws > 0:
        space = text.find(" ", ws, starts[bisect_left(starts, ws)])
        ws = space + 1 if space != -1 else ws
    we = min(len(text), ws + max_chars)
    if we < len(text):
        last = bisect_right(ends, we) - 1  # the last match ending inside, if it starts inside too
        last_end = ends[last] if last >= 0 and starts[last] >= ws else ws
        space = text.rfind(" ", last_end, we)
        we = space if space != -1 else we
    return ws, we


def _render(text: str, spans: Sequence[tuple[int, int]], max_chars: int) -> str:
    starts = [start for start, _ in spans]
    ends = [end for _, end in spans]
    ws, we = _window(text, starts, ends, max_chars)
    # The window is escaped in one pass (not a dozen small ones): the marks stand as two control
    # characters meanwhile, which neither the escaping nor the spacing touches, nor a run of spaces
    # crosses; a window holding one of them itself is escaped piece by piece.
    pieces: list[str] = []  # text, _OPEN, match, _CLOSE, text, ...
    pos = ws
    for start, end in spans[bisect_left(starts, ws) : bisect_right(ends, we)]:  # the matches inside
        pieces += (text[pos:start], _OPEN, text[start:end], _CLOSE)
        pos = end
    pieces.append(text[pos:we])
    window = text[ws:we]
    if _OPEN in window or _CLOSE in window:
        body = "".join(_esc(p) if i % 2 == 0 else _MARKS[p] for i, p in enumerate(pieces))
    else:
        body = _esc("".join(pieces)).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    return f"{'…' if ws > 0 else ''}{body}{'…' if we < len(text) else ''}".strip()


def snippet(text: str, terms: Iterable[Term | str], max_chars: int = 240, *, fallback: str = "") -> str:
    """An HTML-safe excerpt of ``text`` around the matches of ``terms``, marked.

    With no match in ``text``, the ``fallback`` (the subject) is tried; with no
    match anywhere, the beginning of ``text`` (or of ``fallback``) unmarked.
    """
    terms = list(terms)
    text = nfc(text or "")[:SCAN_LIMIT]
    spans = match_spans(text, terms)
    if not spans and fallback:
        fb = nfc(fallback)[:SCAN_LIMIT]
        fb_spans = match_spans(fb, terms)
        if fb_spans or not text.strip():
            return _render(fb, fb_spans, max_chars)
    return _render(text, spans, max_chars)
