"""The corpus of real public documents (tests/data/real_documents): loading, rendering, scoring.

Each JSON file holds the document's text as a person reads it (``header_left``,
``header_right`` and ``body`` lines) and its ground truth. ``render_pdf`` draws it the
way offices print such letters (two header columns, centred title and subject, the
signature block beside ``Nơi nhận``); ``render_scan`` turns that page into a degraded
scan (blur, noise, skew, JPEG, 200/300 dpi). ``score`` compares what a reader found with
the truth, field by field, with the rules of issue 12.
"""

from __future__ import annotations

import io
import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from archive_core.fonts import find_fonts

from .real_corpus import CORPUS_DIR, CorpusError, load_real_documents
from .real_corpus import _check as check_record

__all__ = [
    "CORPUS_DIR",
    "FIELDS",
    "RealDocument",
    "ScanVariant",
    "load_corpus",
    "render_pdf_bytes",
    "render_pdf",
    "scan_images",
    "render_scan",
    "score",
    "fold",
    "scan_variant",
]

FIELDS = ("number", "issued_date", "doc_type", "subject", "issuer", "signer", "signer_title")


def fold(text: str) -> str:
    """Diacritics removed, lower case, đ→d, spaces collapsed (the comparison key)."""
    text = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(text.split())


@dataclass
class RealDocument:
    id: str
    header_left: list[str]
    header_right: list[str]
    body: list[str]
    truth: dict[str, str]
    text: str
    source: str = ""
    level: str = ""
    era: object = None
    layout_notes: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def expected(self) -> dict[str, object]:
        """Truth with issued_date as a date (None when the document has none)."""
        out: dict[str, object] = {f: (self.truth.get(f) or None) for f in FIELDS}
        raw = self.truth.get("issued_date")
        out["issued_date"] = date.fromisoformat(raw) if raw else None
        return out


def _lines(value: object) -> list[str]:
    items = value.split("\n") if isinstance(value, str) else list(value) if isinstance(value, list) else []
    return [" ".join(str(x).split()) for x in items if str(x).strip()]


def load_corpus(directory: Path = CORPUS_DIR) -> list[RealDocument]:
    """Every corpus record (checked by specimens.real_corpus), in file order."""
    docs = []
    known = {"id", "header_left", "header_right", "body", "truth", "text", "source", "level", "era", "layout_notes"}
    try:
        records = load_real_documents(directory)
    except CorpusError:  # the corpus is being edited: measure the files that are well formed
        records = []
        for path in sorted(Path(directory).glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                check_record(record, path.name)
            except (ValueError, CorpusError):
                continue
            records.append(record)
    for raw in records:
        docs.append(
            RealDocument(
                id=raw["id"],
                header_left=_lines(raw.get("header_left")),
                header_right=_lines(raw.get("header_right")),
                body=_lines(raw.get("body")),
                truth={k: (v or "") for k, v in (raw.get("truth") or {}).items()},
                text=raw.get("text") or "",
                source=raw.get("source") or "",
                level=raw.get("level") or "",
                era=raw.get("era"),
                layout_notes=raw.get("layout_notes") or "",
                extra={k: v for k, v in raw.items() if k not in known},
            )
        )
    return docs


# ----------------------------------------------------------------------------- scoring


def _norm_number(value: object) -> str:
    s = unicodedata.normalize("NFC", str(value or ""))
    return re.sub(r"\s+", "", s.replace("–", "-").replace("—", "-")).upper()


# The subject's label ('V/v', 'Về việc', a bare 'Về') is not what it says; the corpus keeps it or not.
_LABEL = re.compile(r"^(?:v\s*/\s*v|ve\s*viec|ve)(?![a-z])\s*[:.]?\s*")


def _subject_key(value: str) -> str:
    return _LABEL.sub("", fold(value)).strip(" .")[:40]


def _same(field_name: str, found: object, expected: object) -> bool:
    if not expected:
        return not found
    if not found:
        return False
    if field_name == "issued_date":
        return str(found) == str(expected)
    if field_name == "number":
        return _norm_number(found) == _norm_number(expected)
    if field_name == "signer":  # tones matter: exact words
        return " ".join(unicodedata.normalize("NFC", str(found)).split()) == " ".join(
            unicodedata.normalize("NFC", str(expected)).split()
        )
    if field_name == "subject":  # the label "V/v" / "Về việc" is not part of what the subject says
        return _subject_key(str(found)) == _subject_key(str(expected))
    return fold(str(found)).strip(" .:") == fold(str(expected)).strip(" .:")


def score(found: dict[str, object], doc: RealDocument) -> dict[str, bool]:
    """Field -> right? (a field absent from the document is right only when left empty)."""
    expected = doc.expected
    return {f: _same(f, found.get(f), expected[f]) for f in FIELDS}


# --------------------------------------------------------------------------- rendering

_MM = 72 / 25.4
_PAGE_W, _PAGE_H = 210 * _MM, 297 * _MM
_LEFT, _RIGHT, _TOP, _BOTTOM = 30 * _MM, 15 * _MM, 20 * _MM, 20 * _MM
_TEXT_W = _PAGE_W - _LEFT - _RIGHT
_LEFT_COL_X = _LEFT + 35 * _MM
_LEFT_COL_W = 68 * _MM
_RIGHT_COL_X = _LEFT + 72 * _MM + (_TEXT_W - 72 * _MM) / 2
_RIGHT_COL_W = _TEXT_W - 78 * _MM
_AUTHORITY = re.compile(r"^(k\.?\s?t|t\.?\s?m|t/m|k/t|t\.?\s?l|tuq|q|thua lenh|thua uy quyen)\b[.:/ ]", re.I)
_SIGNED = re.compile(r"^\(?\s*(da ky|ky ten|ky,|ky va|da ky va dong dau|chu ky|ky ten va dong dau)")
_registered: tuple[str, str, str] | None = None


def _fonts() -> tuple[str, str, str]:
    global _registered
    if _registered is None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        names = ("RealDocSerif", "RealDocSerif-Bold", "RealDocSerif-Italic")
        for name, path in zip(names, find_fonts(), strict=True):
            pdfmetrics.registerFont(TTFont(name, path))
        _registered = names
    return _registered


def _width(text: str, font: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, font, size)


def _wrap(text: str, font: str, size: float, width: float, first_width: float | None = None) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        limit = first_width if (first_width is not None and not lines) else width
        if current and _width(candidate, font, size) > limit:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _is_upper(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) / len(letters) >= 0.85


@dataclass
class _Item:
    x: float  # centre when centred, else left edge
    y: float
    text: str
    font: int  # 0 regular, 1 bold, 2 italic
    size: float
    centred: bool = True


@dataclass
class _Roles:
    """Line index ranges of the body by their role on the page."""

    centred: set[int] = field(default_factory=set)
    title: set[int] = field(default_factory=set)
    signature: tuple[int, int] | None = None  # [start, end)
    recipients: tuple[int, int] | None = None


def _roles(doc: RealDocument) -> _Roles:
    roles = _Roles()
    body = doc.body
    folded = [fold(x) for x in body]
    subject = fold(doc.truth.get("subject", ""))
    doc_type = fold(doc.truth.get("doc_type", ""))
    # Title: the first line naming the type (uppercase), then the subject lines under it.
    title = next(
        (i for i, f in enumerate(folded[:8]) if doc_type and f.strip(" :") == doc_type and _is_upper(body[i])), None
    )
    start = title + 1 if title is not None else 0
    if title is not None:
        roles.title.add(title)
    for i in range(start, min(start + 5, len(body))):
        if subject and len(folded[i]) > 3 and folded[i].strip(" .") in subject:
            roles.centred.add(i)
            roles.title.add(i)
        elif i > start:
            break
    # Signature block: authority lines, the signer's title, "(Đã ký)", the name.
    signer, signer_title = fold(doc.truth.get("signer", "")), fold(doc.truth.get("signer_title", ""))
    name_at = max((i for i, f in enumerate(folded) if signer and f == signer), default=None)
    if name_at is not None:
        first = name_at
        while first - 1 >= 0 and (
            _AUTHORITY.match(folded[first - 1])
            or _SIGNED.match(folded[first - 1])
            or (signer_title and folded[first - 1] == signer_title)
            or (
                _is_upper(body[first - 1])
                and len(body[first - 1]) < 50
                and not folded[first - 1].startswith("noi nhan")
            )
        ):
            first -= 1
        roles.signature = (first, name_at + 1)
    noi = next((i for i, f in enumerate(folded) if f.startswith("noi nhan")), None)
    if noi is not None:
        end = noi + 1
        while end < len(body) and (
            body[end][:1] in "-–+•*"
            or (
                len(body[end]) < 60
                and not _is_upper(body[end])
                and roles.signature is not None
                and not roles.signature[0] <= end < roles.signature[1]
            )
        ):
            if roles.signature and roles.signature[0] <= end < roles.signature[1]:
                break
            end += 1
        roles.recipients = (noi, end)
    for i, line in enumerate(body):
        if i in roles.title:
            continue
        if _is_upper(line) and len(line) < 90 or fold(line).startswith("kinh gui") and len(line) < 100:
            roles.centred.add(i)
    return roles


class _Page:
    def __init__(self, canvas, fonts: tuple[str, str, str]):
        self.c = canvas
        self.fonts = fonts
        self.y = _PAGE_H - _TOP
        self.number = 1
        self.rows = False

    def draw(self, items: list[_Item]) -> None:
        for it in items:
            self.c.setFont(self.fonts[it.font], it.size)
            if it.centred:
                self.c.drawCentredString(it.x, it.y, it.text)
            else:
                self.c.drawString(it.x, it.y, it.text)

    def ensure(self, height: float) -> None:
        if self.y - height < _BOTTOM:
            self.c.showPage()
            self.number += 1
            self.y = _PAGE_H - _TOP
            self.c.setFont(self.fonts[0], 12)
            self.c.drawCentredString(_PAGE_W / 2, self.y + 6 * _MM, str(self.number))


def _fit(text: str, font: str, size: float, width: float) -> tuple[list[str], float]:
    """Shrink down to 10 pt to keep a column line on one line, then wrap."""
    while size > 10 and _width(text, font, size) > width:
        size -= 0.5
    return _wrap(text, font, size, width), size


def _column(
    lines: list[str], x: float, width: float, top: float, fonts: tuple[str, str, str], *, right: bool
) -> tuple[list[_Item], float, float | None]:
    """Items of one header column; (items, lowest y, y of the `Số`/date line)."""
    items: list[_Item] = []
    y = top
    anchor = None
    for i, line in enumerate(lines):
        f = fold(line)
        if right:
            italic = "ngay" in f and ("thang" in f or re.search(r"\d", f))
            font = 2 if italic else 1
            size = 13.0 if i else 12.0
        else:
            is_number = f.startswith(("so:", "so ", "so:")) and re.search(r"\d|/", f)
            vv = f.startswith(("v/v", "ve viec"))
            font = 0 if (is_number or vv or not _is_upper(line) or (i == 0 and len(lines) > 3)) else 1
            size = 12.0 if not is_number else 13.0
            if vv or not _is_upper(line):
                size = 12.0
        pieces, size = _fit(line, fonts[font], size, width)
        if (right and "ngay" in f) or (not right and f.startswith("so")):
            y -= 6
            anchor = y
        for piece in pieces:
            items.append(_Item(x, y, piece, font, size))
            y -= size + 3
    return items, y, anchor


def _header(page: _Page, doc: RealDocument, rows: bool) -> None:
    fonts = page.fonts
    top = page.y
    left, left_low, left_anchor = _column(doc.header_left, _LEFT_COL_X, _LEFT_COL_W, top, fonts, right=False)
    right, right_low, right_anchor = _column(doc.header_right, _RIGHT_COL_X, _RIGHT_COL_W, top, fonts, right=True)
    if left_anchor is not None and right_anchor is not None and left_anchor != right_anchor:
        # The place and date stand on the line of the number, as Nghị định 30 draws them.
        shift = left_anchor - right_anchor
        moved = [it for it in right if it.y <= right_anchor]
        if all(it.y + shift < min((r.y for r in right if r.y > right_anchor), default=top + 99) - 10 for it in moved):
            for it in moved:
                it.y += shift
            right_low = min(it.y for it in right) - 15
    items = left + right
    if rows:  # the way many producers write the page: row by row across both columns
        items.sort(key=lambda it: (-round(it.y), it.x))
    page.draw(items)
    page.y = min(left_low, right_low) - 14


def _paragraph(page: _Page, text: str, size: float = 13.0) -> None:
    font = page.fonts[0]
    for i, line in enumerate(_wrap(text, font, size, _TEXT_W, first_width=_TEXT_W - 10 * _MM)):
        page.ensure(size + 5)
        page.draw([_Item(_LEFT + (10 * _MM if i == 0 else 0), page.y, line, 0, size, centred=False)])
        page.y -= size + 5
    page.y -= 3


def _centred(page: _Page, text: str, bold: bool, size: float) -> None:
    font = page.fonts[1 if bold else 0]
    for line in _wrap(text, font, size, 150 * _MM):
        page.ensure(size + 5)
        page.draw([_Item(_LEFT + _TEXT_W / 2, page.y, line, 1 if bold else 0, size)])
        page.y -= size + 5


def _signature(page: _Page, body: list[str], roles: _Roles, rows: bool) -> None:
    sig = body[roles.signature[0] : roles.signature[1]] if roles.signature else []
    rec = body[roles.recipients[0] : roles.recipients[1]] if roles.recipients else []
    height = max(len(rec) * 14, len(sig) * 17 + 30 * _MM)
    page.ensure(min(height, _PAGE_H - _TOP - _BOTTOM - 20))
    page.y -= 8
    top = page.y
    items: list[_Item] = []
    y = top
    for i, line in enumerate(rec):
        bold, size = (i == 0), (12.0 if i == 0 else 11.0)
        for piece in _wrap(line, page.fonts[1 if bold else 0], size, 72 * _MM):
            items.append(_Item(_LEFT, y, piece, 1 if bold else 0, size, centred=False))
            y -= 13
    rec_low = y
    y = top
    for i, line in enumerate(sig):
        last = i == len(sig) - 1
        if last:
            y -= 22 * _MM  # room for the signature and the seal
        italic = _SIGNED.match(fold(line)) is not None
        for piece in _wrap(line, page.fonts[1], 13, _RIGHT_COL_W + 10 * _MM):
            items.append(_Item(_RIGHT_COL_X, y, piece, 2 if italic else 1, 13))
            y -= 16
    if rows:
        items.sort(key=lambda it: (-round(it.y), it.x))
    page.draw(items)
    page.y = min(rec_low, y) - 10


def render_pdf_bytes(doc: RealDocument, *, rows: bool | None = None) -> bytes:
    """The document as a born-digital PDF. `rows` draws the two-column parts row by row (as
    many producers do, so a plain text layer interleaves them); default: by the id's parity."""
    from reportlab.pdfgen import canvas as rl_canvas

    if rows is None:
        rows = sum(map(ord, doc.id)) % 2 == 1
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=(_PAGE_W, _PAGE_H), invariant=True)
    c.setTitle(doc.id)
    page = _Page(c, _fonts())
    _header(page, doc, rows)
    roles = _roles(doc)
    body = doc.body
    i = 0
    while i < len(body):
        if roles.signature and i == roles.signature[0] or roles.recipients and i == roles.recipients[0]:
            _signature(page, body, roles, rows)
            ends = [r[1] for r in (roles.signature, roles.recipients) if r]
            starts = [r[0] for r in (roles.signature, roles.recipients) if r]
            # Both blocks are drawn side by side; lines between them (if any) follow.
            between = [
                k
                for k in range(min(starts), max(ends))
                if not any(r and r[0] <= k < r[1] for r in (roles.signature, roles.recipients))
            ]
            for k in between:
                _paragraph(page, body[k], 12)
            i = max(ends)
            continue
        line = body[i]
        if i in roles.title:
            _centred(page, line, True, 14 if i == min(roles.title) else 13.5)
            if i + 1 not in roles.title:
                page.y -= 8
        elif i in roles.centred:
            _centred(page, line, True, 13)
        else:
            _paragraph(page, line)
        i += 1
    c.showPage()
    c.save()
    return buf.getvalue()


def render_pdf(doc: RealDocument, path: Path, *, rows: bool | None = None) -> Path:
    path = Path(path)
    path.write_bytes(render_pdf_bytes(doc, rows=rows))
    return path


# ------------------------------------------------------------------------------ scans


@dataclass(frozen=True)
class ScanVariant:
    dpi: int = 300
    blur: float = 0.6
    noise: float = 0.06
    skew: float = 0.0  # degrees, counter-clockwise
    jpeg: int | None = None  # quality


def scan_variant(doc: RealDocument) -> ScanVariant:
    """A deterministic degradation per document: 200 or 300 dpi, blur, grain, up to ±2° skew, JPEG."""
    rng = random.Random(doc.id)
    return ScanVariant(
        dpi=rng.choice([200, 300, 300]),
        blur=rng.choice([0.4, 0.6, 0.8]),
        noise=rng.choice([0.04, 0.06, 0.08]),
        skew=round(rng.uniform(-2.0, 2.0), 1),
        jpeg=rng.choice([None, 75, 85]),
    )


def scan_images(doc: RealDocument, variant: ScanVariant | None = None, pages: list[int] | None = None):
    """Degraded greyscale PIL images of the page indexes `pages` (default all)."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    variant = variant or scan_variant(doc)
    pdf = pdfium.PdfDocument(render_pdf_bytes(doc))
    out = []
    try:
        wanted = range(len(pdf)) if pages is None else [p % len(pdf) for p in pages]
        for i in dict.fromkeys(wanted):
            page = pdf[i]
            try:
                bitmap = page.render(scale=variant.dpi / 72, grayscale=True)
                img = bitmap.to_pil().convert("L")
                bitmap.close()
            finally:
                page.close()
            rng = random.Random(f"{doc.id}-{i}")
            if variant.skew:
                img = img.rotate(variant.skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
            if variant.blur:
                img = img.filter(ImageFilter.GaussianBlur(variant.blur))
            if variant.noise:
                grain = Image.effect_noise(img.size, 60 + rng.randint(0, 20))
                img = Image.blend(img, grain, variant.noise)
            if variant.jpeg:
                buf = io.BytesIO()
                img.save(buf, "JPEG", quality=variant.jpeg)
                img = Image.open(io.BytesIO(buf.getvalue())).convert("L")
            img.info["dpi"] = (variant.dpi, variant.dpi)
            out.append((i, img))
    finally:
        pdf.close()
    return out


def render_scan(doc: RealDocument, path: Path, variant: ScanVariant | None = None) -> Path:
    """All pages as one scanned PDF without a text layer."""
    variant = variant or scan_variant(doc)
    images = [img for _, img in scan_images(doc, variant)]
    path = Path(path)
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=float(variant.dpi))
    return path
