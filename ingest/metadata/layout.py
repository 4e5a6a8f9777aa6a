"""A first page's words with their positions, read as a person sees the page.

A text layer or OCR may give the letterhead's two columns one after the other or
interleaved row by row, and the signature block mixed with `Nơi nhận`. With each word's
box the columns separate by geometry: the page's lines are rebuilt from the words, each
line is split where a wide gap opens, and the pieces of the header are assigned to the
left or right column by where they stand. Born-digital PDFs give words with positions
through pypdfium2 (each letter's font box, in the same pass as the text); scans through Tesseract's word boxes (``ingest.ocr.OcrResult.words``).
"""

from __future__ import annotations

import bisect
import ctypes
import functools
import statistics
import struct
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .folding import fold, fold_keep
from .header import is_title_line

if TYPE_CHECKING:
    from ingest.ocr import OcrWord

__all__ = [
    "Word",
    "PageLayout",
    "page_layout",
    "pdf_first_page_layout",
    "textpage_layout",
    "textpage_words",
    "layout_from_ocr",
]

_HEADER_MAX_LINES = 14
_HEADER_MAX_DEPTH = 0.45  # of the page height


class Word(NamedTuple):  # a tuple: tens of thousands are made per page of letters
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass
class _Piece:
    words: list[Word]

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class PageLayout:
    """The page's lines with the header columns (and the signature block) apart."""

    header_left: list[str] = field(default_factory=list)
    header_right: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)  # after the header; the signature block before Nơi nhận

    def text(self) -> str:
        return "\n".join(self.header_left + self.header_right + self.body)


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines: a word joins a line its vertical middle falls inside."""
    lines: list[list[Word]] = []
    tops: list[list[float]] = []  # each line's tops and bottoms kept sorted, for their medians
    bottoms: list[list[float]] = []
    bands: list[tuple[float, float]] = []  # each line's median top and bottom, updated when it grows
    insort = bisect.insort
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        mid = (w.top + w.bottom) / 2
        count = len(lines)
        for k in range(count - 1, max(count - 4, -1), -1):
            top, bottom = bands[k]
            if top <= mid <= bottom:
                lines[k].append(w)
                line_tops, line_bottoms = tops[k], bottoms[k]
                insort(line_tops, w.top)
                insort(line_bottoms, w.bottom)
                middle = len(line_tops) // 2  # _median of each, inline (once per word of the page)
                if len(line_tops) % 2:
                    bands[k] = (line_tops[middle], line_bottoms[middle])
                else:
                    bands[k] = (
                        (line_tops[middle - 1] + line_tops[middle]) / 2,
                        (line_bottoms[middle - 1] + line_bottoms[middle]) / 2,
                    )
                break
        else:
            lines.append([w])
            tops.append([w.top])
            bottoms.append([w.bottom])
            bands.append((w.top, w.bottom))
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def _median(ordered: list[float]) -> float:
    """``statistics.median`` of a list already in order."""
    n = len(ordered)
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _pieces(line: list[Word]) -> list[_Piece]:
    """A line split where the gap between words is wider than a letter's height."""
    gap = 1.2 * _median(sorted([w.bottom - w.top for w in line]))
    piece = [line[0]]
    pieces = [_Piece(piece)]
    for w in line[1:]:
        if w.x0 - piece[-1].x1 > gap:
            piece = [w]
            pieces.append(_Piece(piece))
        else:
            piece.append(w)
    return pieces


def page_layout(words: Iterable[Word], width: float, height: float) -> PageLayout:
    """Lines of the page in reading order with the header's columns separated."""
    words = [w for w in words if w.text.strip()]
    layout = PageLayout()
    if not words:
        return layout
    lines = [_pieces(line) for line in _lines(words)]
    # The two columns' boundary, from header lines holding two pieces (motto beside issuer).
    top_zone = [pcs for pcs in lines[:_HEADER_MAX_LINES] if pcs[0].words[0].top < height * _HEADER_MAX_DEPTH]
    pairs = [pcs for pcs in top_zone if len(pcs) >= 2]
    if not pairs:
        layout.body = [" ".join(p.text for p in pcs) for pcs in lines]
        return layout
    left_edge = max(pcs[0].x1 for pcs in pairs)
    right_edge = min(pcs[-1].x0 for pcs in pairs)
    if right_edge <= left_edge:  # no clean gutter: take the widest gap of the first pair
        right_edge = pairs[0][-1].x0
        left_edge = pairs[0][0].x1
    split = (left_edge + right_edge) / 2
    right_centre = statistics.median(pcs[-1].centre for pcs in pairs)
    tolerance = 0.16 * width
    end = 0
    for k, pcs in enumerate(top_zone):
        text = " ".join(p.text for p in pcs)
        if is_title_line(text, fold_keep(text)):  # a short type line may stand near the right column
            break
        sides = []
        for p in pcs:
            if p.x1 <= right_edge + 0.01 * width and p.centre < split:
                sides.append("L")
            elif p.x0 >= split - 0.02 * width and abs(p.centre - right_centre) <= tolerance:
                sides.append("R")
            else:
                sides.append("")
        if "" in sides:
            break
        for side in ("L", "R"):  # pieces of one side on one line are one line of that column
            text = " ".join(p.text for p, sd in zip(pcs, sides, strict=True) if sd == side)
            if text:
                (layout.header_left if side == "L" else layout.header_right).append(text)
        end = k + 1
    rest = lines[end:]
    layout.body = _signature_order(rest, split)
    return layout


def _signature_order(lines: list[list[_Piece]], split: float) -> list[str]:
    """Body lines; from `Nơi nhận` (or the first two-piece line near it) down, the right column
    (the signature block) comes before the left one (the recipients)."""
    start = next((k for k, pcs in enumerate(lines) if fold(pcs[0].text).startswith("noi nhan")), None)
    if start is None:
        return [" ".join(p.text for p in pcs) for pcs in lines]
    # The signature block may start a little above Nơi nhận, on lines that stand right only.
    while start > 0 and all(p.x0 >= split for p in lines[start - 1]) and len(lines[start - 1]) == 1:
        start -= 1
    out = [" ".join(p.text for p in pcs) for pcs in lines[:start]]
    right: list[str] = []
    left: list[str] = []
    for pcs in lines[start:]:
        lp = [p.text for p in pcs if p.centre < split]
        rp = [p.text for p in pcs if p.centre >= split]
        if lp:
            left.append(" ".join(lp))
        if rp:
            right.append(" ".join(rp))
    return out + right + left


def pdf_first_page_layout(path: Path) -> PageLayout | None:
    """The first page of a born-digital PDF by its positioned words (pypdfium2); None without a text layer."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except Exception:
        return None
    try:
        if len(pdf) == 0:
            return None
        page = pdf[0]
        try:
            textpage = page.get_textpage()
            try:
                return textpage_layout(textpage, *page.get_size())
            finally:
                textpage.close()
        finally:
            page.close()
    except Exception:
        return None
    finally:
        pdf.close()


_WORD_GAP = 3.0  # points between two letters of one word at most, across or down (pdfplumber's tolerances)


def textpage_words(textpage, height: float, text: str | None = None) -> list[Word]:
    """The words of a pypdfium2 text page with their boxes (top-down coordinates, as on paper).

    Letters are taken in the page's order with each one's font box; a word ends at a space, a line
    break, or a gap of more than ``_WORD_GAP`` points across or down (the letters' baselines), the
    way pdfplumber groups its characters.  ``text``: the page's whole text as ``get_text_range``
    gave it, letter for letter, so each letter is not asked for again."""
    import pypdfium2.raw as pdfium_c

    count = textpage.count_chars()
    raw = textpage.raw
    if text is None or len(text) != count:
        get_unicode = pdfium_c.FPDFText_GetUnicode
        text = "".join(_char(get_unicode(raw, index)) for index in range(count))
    # A substring of NFC text is NFC: a page already in NFC (a born-digital letter's) needs no word normalised.
    nfc: Callable[[str], str] = str if unicodedata.is_normalized("NFC", text) else _nfc
    words: list[Word] = []
    start = -1
    x0 = x1 = top = bottom = 0.0
    rect = pdfium_c.FS_RECTF()
    box = ctypes.byref(rect)
    get_box = _loose_char_box()
    corners = _RECT.unpack_from  # left, top, right, bottom: one call instead of four field reads
    for index, char in enumerate(text):
        if char.isspace() or char == "\ufffe" or char == "\x00" or not get_box(raw, index, box):
            if start >= 0:
                words.append(Word(nfc(text[start:index]), x0, x1, top, bottom))
                start = -1
            continue
        left, rect_top, right, rect_bottom = corners(rect)
        char_top, char_bottom = height - rect_top, height - rect_bottom
        if start >= 0 and (left - x1 > _WORD_GAP or x0 - right > _WORD_GAP or abs(char_bottom - bottom) > _WORD_GAP):
            words.append(Word(nfc(text[start:index]), x0, x1, top, bottom))
            start = -1
        if start < 0:
            start, x0, x1, top, bottom = index, left, right, char_top, char_bottom
            continue
        if left < x0:
            x0 = left
        if right > x1:
            x1 = right
        if char_top < top:
            top = char_top
        if char_bottom > bottom:
            bottom = char_bottom
    if start >= 0:
        words.append(Word(nfc(text[start:]), x0, x1, top, bottom))
    return words


_RECT = struct.Struct("4f")  # FS_RECTF: left, top, right, bottom (C floats)


@functools.cache
def _loose_char_box() -> Callable[..., int]:
    """``FPDFText_GetLooseCharBox`` called without ctypes' argument conversion (the arguments given are
    already a text page pointer, an int and a pointer to an FS_RECTF): half the cost of a call, and it is
    called for every letter of a first page."""
    import pypdfium2.raw as pdfium_c

    address = ctypes.cast(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_void_p).value
    if not address:
        raise RuntimeError("pypdfium2 has no FPDFText_GetLooseCharBox")
    function = ctypes.CFUNCTYPE(ctypes.c_int)(address)
    function.argtypes = None  # type: ignore[assignment]  # (ctypes takes None: no conversion)
    return function


def _char(code: int) -> str:
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else "\x00"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def textpage_layout(textpage, width: float, height: float, text: str | None = None) -> PageLayout | None:
    """The layout of a page from its pypdfium2 text page (the one the text was read from); None if nearly empty."""
    words = textpage_words(textpage, height, text)
    if sum(len(w.text) for w in words) < 20:
        return None
    return page_layout(words, width, height)


def layout_from_ocr(words: list[OcrWord], size: tuple[int, int]) -> PageLayout:
    """The layout of a scanned page from Tesseract's word boxes."""
    return page_layout(
        (Word(w.text, w.left, w.left + w.width, w.top, w.top + w.height) for w in words if w.text.strip()),
        float(size[0]),
        float(size[1]),
    )
