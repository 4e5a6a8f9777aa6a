"""A first page's words with their positions, read as a person sees the page.

A text layer or OCR may give the letterhead's two columns one after the other or
interleaved row by row, and the signature block mixed with `Nơi nhận`. With each word's
box the columns separate by geometry: the page's lines are rebuilt from the words, each
line is split where a wide gap opens, and the pieces of the header are assigned to the
left or right column by where they stand. Born-digital PDFs give words with positions
through pdfplumber; scans through Tesseract's word boxes (``ingest.ocr.OcrResult.words``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .folding import fold, fold_keep
from .header import is_title_line

if TYPE_CHECKING:
    from ingest.ocr import OcrWord

__all__ = ["Word", "PageLayout", "page_layout", "pdf_first_page_layout", "layout_from_ocr"]

_HEADER_MAX_LINES = 14
_HEADER_MAX_DEPTH = 0.45  # of the page height


@dataclass(frozen=True)
class Word:
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
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        mid = (w.top + w.bottom) / 2
        for line in reversed(lines[-3:]):
            top = statistics.median(x.top for x in line)
            bottom = statistics.median(x.bottom for x in line)
            if top <= mid <= bottom:
                line.append(w)
                break
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def _pieces(line: list[Word]) -> list[_Piece]:
    """A line split where the gap between words is wider than a letter's height."""
    height = statistics.median(w.bottom - w.top for w in line)
    pieces = [_Piece([line[0]])]
    for w in line[1:]:
        if w.x0 - pieces[-1].x1 > 1.2 * height:
            pieces.append(_Piece([w]))
        else:
            pieces[-1].words.append(w)
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
    """The first page of a born-digital PDF by pdfplumber's positioned words; None without a text layer."""
    import pdfplumber

    try:
        with pdfplumber.open(str(path), pages=[1]) as pdf:  # page 1 only, however long the file
            if not pdf.pages:
                return None
            page = pdf.pages[0]
            words = [
                Word(w["text"], float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]))
                for w in page.extract_words(keep_blank_chars=False, use_text_flow=False)
            ]
            width, height = float(page.width), float(page.height)
    except Exception:
        return None
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
