"""Snippets with the hits marked, shared by every engine.

Matches are found in the folded text (``fold.fold`` keeps offsets), so a
query typed without diacritics marks the original words with them.  The
output is HTML-safe: the original text is escaped, matches wrapped in <mark>.

Bounded and linear: at most ``SCAN_LIMIT`` characters are looked at, at most
``MAX_SPANS`` matches are collected, and the best window is found in one
two-pointer pass (a body full of query words once cost seconds per hit).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import islice

from .base import Term
from .fold import _fold_char, fold, nfc

SCAN_LIMIT = 200_000  # characters of a long body looked at for a snippet
MAX_SPANS = 5_000  # matches collected per text; the window lies among the first ones
_SPACE_RE = re.compile(r"\s+")
_ALNUM = r"[^\W_]"


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
def _letter(folded: str) -> str:
    """The characters of NFC text that fold to ``folded`` (a character of a folded word), as a regex."""
    chars = [folded] if _fold_char(folded) == folded else []
    chars += _folded_from().get(folded, [])
    if not chars and ord(folded) > 0xFFFF:  # beyond the BMP: its other case, if that folds to it
        chars = [c for c in (folded.upper(), folded.lower()) if _fold_char(c) == folded][:1]
    if len(chars) == 1:
        return re.escape(chars[0])
    return "[" + "".join(map(re.escape, chars)) + "]" if chars else "[^\\s\\S]"


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
    parts = [r"[\W_]+".join("".join(map(_letter, w)) for w in p) for p in phrases]
    return re.compile(rf"(?<!{_ALNUM})(?:{'|'.join(parts)})(?!{_ALNUM})")


def _pattern(terms: Iterable[Term | str]) -> re.Pattern[str] | None:
    return _pattern_of(tuple(terms))


def match_spans(text: str, terms: Iterable[Term | str]) -> list[tuple[int, int]]:
    """(start, end) of each match of the positive terms in NFC ``text``."""
    pattern = _pattern(terms)
    if pattern is None or not text:
        return []
    return [m.span() for m in islice(pattern.finditer(text), MAX_SPANS)]


def _esc(text: str) -> str:
    return html.escape(_SPACE_RE.sub(" ", text), quote=True)


def _window(text: str, spans: Sequence[tuple[int, int]], max_chars: int) -> tuple[int, int]:
    """The stretch of ``max_chars`` holding the most matches, cut at spaces.

    Spans come from ``finditer``: ordered and disjoint, so starts and ends both
    grow and the matches inside ``[ws, ws + max_chars]`` are found with two
    pointers that only move forward (linear in the number of spans).
    """
    if not spans:
        end = min(len(text), max_chars)
        return 0, end
    lead = max_chars // 4
    best_start, best_count = 0, -1
    first_in = 0  # first span starting at or after the window start
    last_in = 0  # one past the last span ending inside the window
    for start, _ in spans:
        ws = max(0, start - lead)
        while first_in < len(spans) and spans[first_in][0] < ws:
            first_in += 1
        last_in = max(last_in, first_in)
        while last_in < len(spans) and spans[last_in][1] <= ws + max_chars:
            last_in += 1
        count = last_in - first_in
        if count > best_count:
            best_start, best_count = ws, count
    first = next(s for s, _ in spans if s >= best_start)
    ws = best_start
    if ws > 0:
        space = text.find(" ", ws, first)
        ws = space + 1 if space != -1 else ws
    we = min(len(text), ws + max_chars)
    if we < len(text):
        last_end = ws
        for s, e in spans:
            if s >= ws and e <= we:
                last_end = e
            elif s > we:
                break
        space = text.rfind(" ", last_end, we)
        we = space if space != -1 else we
    return ws, we


def _render(text: str, spans: Sequence[tuple[int, int]], max_chars: int) -> str:
    ws, we = _window(text, spans, max_chars)
    out: list[str] = ["…" if ws > 0 else ""]
    pos = ws
    for start, end in spans:
        if start >= we:
            break
        if start < pos or end > we:
            continue
        out.append(_esc(text[pos:start]))
        out.append(f"<mark>{_esc(text[start:end])}</mark>")
        pos = end
    out.append(_esc(text[pos:we]))
    if we < len(text):
        out.append("…")
    return "".join(out).strip()


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
