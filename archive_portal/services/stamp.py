"""Visible stamps burned into what lookup accounts take away: who, which unit, when.

The stamp is drawn *across* the page, in rows spread over the whole visible box
(the CropBox, where a viewer shows the page), so cropping a margin or a band
never removes it:

* PDF pages with vector content and text: the stamp's rows as a transparent
  Form XObject (a font covering Vietnamese, embedded) drawn over the page's own
  content, sized and placed on the page's visible box and upright as the page is
  shown. The page's content is not parsed: it becomes a form of its own, drawn
  first, so nothing it leaves behind (an unbalanced Q, a ``cm``, a clip, a string
  left open) can move, shrink or hide the stamp (``_stamp_page``).
* What a page carries besides what it shows does not travel: thumbnails, an
  application's private data, page actions, annotations but links
  (``_without_extras``); what an annotation shows (a visible signature, a
  stamp, a form's values) is drawn into the page's content under the stamp,
  and a page with one that covers a quarter of it is rendered as a scan is.
* PDF pages that are mostly pictures (scans): rendered with pdfium and
  re-encoded with the stamp drawn into their pixels; the original picture is
  not carried over, so no unstamped scan can be pulled out of the copy. The
  stamp's words ride along as invisible text, so the copy says who took it.
* Image files (PNG/JPEG/TIFF): every frame with the stamp in its pixels, as a
  PDF page of the frame's own size.
* Page images rendered for the document page: the stamp in the pixels.

Every copy is written whole (never an incremental update, which would keep the
unstamped original as a prefix) into a temporary file that is streamed out and
then deleted. Bounded: at most ``max_pages`` pages or frames, the image pixel
limit of the settings, rendering at ``RASTER_DPI`` capped by ``MAX_RASTER_PIXELS``.
"""

from __future__ import annotations

import io
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from archive_core.clock import to_local

from .pdfium_lock import PDFIUM_LOCK

FONT_NAME = "ArchiveStamp"
STAMP_RGB = (150, 20, 20)  # dark red: legible over black text and over white paper
STAMP_ALPHA = 0.55
ROWS_MIN = 3
ROW_SPACING = 10.0  # a row every this many text heights
PICTURE_SHARE = 0.25  # a PDF page whose pictures cover this share of it is re-encoded
RASTER_DPI = 150
MAX_RASTER_PIXELS = 16_000_000
JPEG_QUALITY = 85

_font_path: str | None = None
# reportlab's TrueType font object is shared by every document that uses it (it is registered once)
# and is not to be used by two documents at once (its docstring says so): two threads building
# stamped PDFs at the same time made its subsetting fail with a KeyError, seen as "this file cannot
# be stamped" (403) about once in 300 stamped downloads under load. A reportlab document that
# uses the font is built and saved under this lock.
_REPORTLAB_FONT_LOCK = threading.Lock()


class StampError(RuntimeError):
    """The file cannot be stamped (encrypted, damaged, too large): it must not leave unstamped."""


@dataclass(frozen=True)
class Stamp:
    username: str
    unit_name: str
    at: datetime  # aware, or naive UTC

    @property
    def text(self) -> str:
        parts = [f"Tải bởi: {self.username}"]
        if self.unit_name:
            parts.append(self.unit_name)
        parts.append(to_local(self.at).strftime("%d/%m/%Y %H:%M"))  # ARCHIVE_TIMEZONE, Hà Nội by default
        return " · ".join(parts)


def _font() -> str:
    """The registered reportlab font name (a Vietnamese-capable TrueType font of the system)."""
    global _font_path
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from archive_core.fonts import find_fonts

    if _font_path is None:
        _font_path = find_fonts()[1]  # bold: thin strokes would fade under JPEG and scanning
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, _font_path))
    return FONT_NAME


def _layout(width: float, height: float) -> tuple[float, list[float]]:
    """Text size and the baselines of the rows (from the bottom), spread over the whole height."""
    size = max(6.0, min(width, height) / 48.0)
    rows = max(ROWS_MIN, int(height / (size * ROW_SPACING)))
    step = height / rows
    return size, [step * (i + 0.5) for i in range(rows)]


def _row_text(text: str, fits: float, measure) -> str:
    """``text`` repeated until it spans ``fits`` (a row crosses the whole width)."""
    row = text
    while measure(row) < fits:
        row = f"{row}     {text}"
    return row


def _pdf_rows(width: float, height: float, text: str) -> tuple[float, list[tuple[float, float, str]]]:
    """The text size and the stamp's rows (x, y of the baseline, the row's words) on a visible box
    of ``width`` x ``height`` (origin at its lower left), as every PDF stamp draws them."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = _font()
    size, baselines = _layout(width, height)
    rows = []
    for n, y in enumerate(baselines):
        shift = -(n % 2) * size * 6  # rows staggered, so no column of the page stays clear
        row = _row_text(text, width - shift + size, lambda s: stringWidth(s, font, size))
        rows.append((shift, y - size / 3, row))
    return size, rows


def _draw_rows_pdf(canvas: Any, width: float, height: float, text: str, *, visible: bool = True) -> None:
    """The stamp rows on a reportlab canvas of the visible box's size (origin at its lower left)."""
    size, rows = _pdf_rows(width, height, text)
    canvas.saveState()
    text_object = canvas.beginText()
    text_object.setFont(_font(), size)
    if visible:
        canvas.setFillColorRGB(*(c / 255 for c in STAMP_RGB))
        canvas.setFillAlpha(STAMP_ALPHA)
    else:
        text_object.setTextRenderMode(3)  # invisible: the words of a stamp already in the pixels
    for x, y, row in rows:
        text_object.setTextOrigin(x, y)
        text_object.textOut(row)
    canvas.drawText(text_object)
    canvas.restoreState()


def _draw_rows_pixels(image, text: str):
    """``image`` (PIL) with the stamp rows burned into its pixels; a new RGB image."""
    from PIL import Image, ImageDraw, ImageFont

    _font()
    assert _font_path is not None  # set by _font()
    base = image.convert("RGB")
    width, height = base.size
    size, baselines = _layout(float(width), float(height))
    font = ImageFont.truetype(_font_path, max(8, int(size)))
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    fill = (*STAMP_RGB, int(255 * STAMP_ALPHA))
    for n, y in enumerate(baselines):
        shift = -(n % 2) * size * 6
        row = _row_text(text, width - shift + size, lambda s: draw.textlength(s, font=font))
        draw.text((shift, height - y), row, fill=fill, font=font, anchor="ls")
    return Image.alpha_composite(base.convert("RGBA"), layer).convert("RGB")


# What a stamp is written in, as one font subset made once per process (``_StampFont``): ASCII, the
# Vietnamese letters and the punctuation of unit names. It carries no one's words, only glyphs; a
# stamp whose text has a character outside it is drawn by reportlab with a subset of its own.
_VIETNAMESE_LETTERS = "".join(
    unicodedata.normalize("NFC", vowel + tone)
    for vowel in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
    for tone in ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
)
STAMP_ALPHABET = "".join(chr(c) for c in range(32, 127)) + _VIETNAMESE_LETTERS + "ĐđÐ·–—‘’“”…№°"


@dataclass(frozen=True)
class _StampFont:
    """The stamp font subset for ``STAMP_ALPHABET``: what its PDF objects need, as plain values."""

    base_font: str
    codes: dict[str, int]  # character -> its one-byte code in the subset
    widths: tuple[float, ...]  # by code, 0 .. len - 1
    descriptor: tuple[tuple[str, Any], ...]  # the FontDescriptor's numbers
    font_file: bytes  # the TrueType subset, Flate-compressed
    length1: int  # its size uncompressed
    to_unicode: bytes  # the ToUnicode CMap, Flate-compressed: the stamp's words stay extractable


_stamp_font: _StampFont | None = None


def _cached_stamp_font() -> _StampFont:
    """The stamp font subset, made on first use (a few ms) with reportlab's subsetter, as reportlab
    would embed it: ASCII keeps its codes, the other characters take the free codes 1-31 and 127-255."""
    global _stamp_font
    if _stamp_font is not None:
        return _stamp_font
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, makeToUnicodeCMap

    with _REPORTLAB_FONT_LOCK:  # the registered font's face is read by reportlab's documents too
        if _stamp_font is not None:
            return _stamp_font
        face = pdfmetrics.getFont(_font()).face
        present = [c for c in dict.fromkeys(STAMP_ALPHABET) if ord(c) in face.charToGlyph]
        subset = [0] * 256
        free = iter([*range(1, 32), *range(127, 256)])
        codes: dict[str, int] = {}
        for char in present:
            code = ord(char) if 32 <= ord(char) < 127 else next(free)
            subset[code] = ord(char)
            codes[char] = code
        subset = subset[: max(codes.values()) + 1]
        base_font = "ARSTMP+" + face.name.decode("latin-1")
        font_file = face.makeSubset(subset)
        descriptor = (
            ("/Ascent", face.ascent),
            ("/CapHeight", face.capHeight),
            ("/Descent", face.descent),
            ("/Flags", (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC),
            ("/FontBBox", tuple(face.bbox)),
            ("/ItalicAngle", face.italicAngle),
            ("/StemV", face.stemV),
            ("/MissingWidth", face.defaultWidth),
        )
        _stamp_font = _StampFont(
            base_font=base_font,
            codes=codes,
            widths=tuple(face.getCharWidth(c) for c in subset),
            descriptor=descriptor,
            font_file=zlib.compress(font_file),
            length1=len(font_file),
            to_unicode=zlib.compress(makeToUnicodeCMap(base_font, subset).encode("latin-1")),
        )
    return _stamp_font


class _CopyStamps:
    """The stamp of one copy as Form XObjects of its writer, one per size shown: built once per size,
    drawn on every page of that size. The text carries the user and the minute: nothing here
    outlives the copy."""

    def __init__(self, writer: Any, text: str) -> None:
        self.writer, self.text = writer, text
        self.forms: dict[tuple[float, float], Any] = {}
        self.font: Any = None  # the stamp font's dictionary in this copy, once a form uses it

    def form(self, width: float, height: float) -> Any:
        """The stamp for a visible box of ``width`` x ``height`` as shown (its indirect reference)."""
        key = (round(width, 2), round(height, 2))
        if key not in self.forms:
            font = _cached_stamp_font()
            if all(char in font.codes for char in self.text):
                self.forms[key] = self._form(font, *key)
            else:
                self.forms[key] = self._reportlab_form(*key)
        return self.forms[key]

    def _form(self, font: _StampFont, width: float, height: float) -> Any:
        """The rows written with the cached subset: what ``_draw_rows_pdf`` draws, without a reportlab document."""
        from pypdf.generic import (
            ByteStringObject,
            ContentStream,
            DictionaryObject,
            FloatObject,
            NameObject,
        )

        if self.font is None:
            self.font = self._font_objects(font)
        size, rows = _pdf_rows(width, height, self.text)
        font_name, alpha_name = NameObject("/ArchiveStampFont"), NameObject("/ArchiveStampAlpha")
        operations: list[tuple[Any, bytes]] = [
            ([], b"q"),
            ([FloatObject(round(c / 255, 6)) for c in STAMP_RGB], b"rg"),
            ([alpha_name], b"gs"),
            ([], b"BT"),
            ([font_name, FloatObject(size)], b"Tf"),
        ]
        for x, y, row in rows:
            operations.append(([FloatObject(v) for v in (1, 0, 0, 1, x, y)], b"Tm"))
            operations.append(([ByteStringObject(bytes(font.codes[c] for c in row))], b"Tj"))
        operations += [([], b"ET"), ([], b"Q")]
        stream = ContentStream(None, self.writer)
        stream.operations = operations
        stream.get_data()  # serialised, so that it can be compressed
        resources = DictionaryObject(
            {
                NameObject("/Font"): DictionaryObject({font_name: self.font}),
                NameObject("/ExtGState"): DictionaryObject(
                    {alpha_name: DictionaryObject({NameObject("/ca"): FloatObject(STAMP_ALPHA)})}
                ),
            }
        )
        return self._add_form(stream.flate_encode(), width, height, resources)

    def _font_objects(self, font: _StampFont) -> Any:
        """The cached subset's Font, FontDescriptor, FontFile2 and ToUnicode, added to this copy."""
        from pypdf.generic import (
            ArrayObject,
            DictionaryObject,
            FloatObject,
            NameObject,
            NumberObject,
            StreamObject,
        )

        def number(value: Any) -> Any:
            if isinstance(value, tuple):
                return ArrayObject(number(v) for v in value)
            return NumberObject(value) if isinstance(value, int) else FloatObject(value)

        def flate(data: bytes, length1: int | None = None) -> Any:
            entries: dict[Any, Any] = {"__streamdata__": data, NameObject("/Filter"): NameObject("/FlateDecode")}
            if length1 is not None:
                entries[NameObject("/Length1")] = NumberObject(length1)
            return self.writer._add_object(StreamObject.initialize_from_dictionary(entries))

        descriptor = DictionaryObject({NameObject(k): number(v) for k, v in font.descriptor})
        descriptor[NameObject("/Type")] = NameObject("/FontDescriptor")
        descriptor[NameObject("/FontName")] = NameObject("/" + font.base_font)
        descriptor[NameObject("/FontFile2")] = flate(font.font_file, font.length1)
        dictionary = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/TrueType"),
                NameObject("/BaseFont"): NameObject("/" + font.base_font),
                NameObject("/FirstChar"): NumberObject(0),
                NameObject("/LastChar"): NumberObject(len(font.widths) - 1),
                NameObject("/Widths"): ArrayObject(FloatObject(w) for w in font.widths),
                NameObject("/FontDescriptor"): self.writer._add_object(descriptor),
                NameObject("/ToUnicode"): flate(font.to_unicode),
            }
        )
        return self.writer._add_object(dictionary)

    def _reportlab_form(self, width: float, height: float) -> Any:
        """The rows drawn by reportlab on a page of their own, with a font subset of this text's
        characters, turned into a form."""
        from pypdf import PdfReader
        from pypdf.generic import NameObject
        from reportlab.pdfgen import canvas as rl_canvas

        buffer = io.BytesIO()
        with _REPORTLAB_FONT_LOCK:
            c = rl_canvas.Canvas(buffer, pagesize=(width, height))
            _draw_rows_pdf(c, width, height, self.text)
            c.showPage()
            c.save()
        buffer.seek(0)
        overlay: Any = PdfReader(buffer).pages[0]
        form = overlay[NameObject("/Contents")].clone(self.writer)  # reportlab writes one stream a page
        return self._add_form(form, width, height, overlay[NameObject("/Resources")].clone(self.writer))

    def _add_form(self, stream: Any, width: float, height: float, resources: Any) -> Any:
        from pypdf.generic import ArrayObject, FloatObject, NameObject

        stream[NameObject("/Type")] = NameObject("/XObject")
        stream[NameObject("/Subtype")] = NameObject("/Form")
        stream[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in (0, 0, width, height))  # clipped to the box
        stream[NameObject("/Resources")] = resources
        return self.writer._add_object(stream)


def _picture_pages(source: Path, count: int) -> set[int]:
    """Indexes of the pages whose pictures cover ``PICTURE_SHARE`` of the visible box, or that
    show pictures and no text: scans, which must not travel with their original pixels."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    found: set[int] = set()
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(source))
        try:
            for index in range(min(count, len(pdf))):
                page = pdf[index]
                try:
                    left, bottom, right, top = page.get_cropbox()
                    area = max((right - left) * (top - bottom), 1.0)
                    covered, texts, pictures = 0.0, 0, 0
                    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_TEXT)):
                        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
                            texts += 1
                            continue
                        pictures += 1
                        x0, y0, x1, y1 = obj.get_bounds()
                        w = max(0.0, min(x1, right) - max(x0, left))
                        h = max(0.0, min(y1, top) - max(y0, bottom))
                        covered += w * h
                    if pictures and (covered / area >= PICTURE_SHARE or not texts):
                        found.add(index)
                finally:
                    page.close()
        finally:
            pdf.close()
    return found


def _raster_page(source: Path, index: int, text: str, max_pixels: int):
    """Page ``index`` of ``source`` as it is shown, re-encoded with the stamp in its pixels (a pypdf page)."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as rl_canvas

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(source))
        try:
            page = pdf[index]
            try:
                width, height = page.get_size()  # the visible box, rotation applied
                scale = RASTER_DPI / 72.0
                limit = min(max_pixels, MAX_RASTER_PIXELS)
                if width * height * scale * scale > limit:
                    scale = (limit / max(width * height, 1.0)) ** 0.5
                image = page.render(scale=scale).to_pil()
            finally:
                page.close()
        finally:
            pdf.close()
    stamped = _draw_rows_pixels(image, text)
    jpeg = io.BytesIO()
    stamped.save(jpeg, format="JPEG", quality=JPEG_QUALITY)
    jpeg.seek(0)
    buffer = io.BytesIO()
    with _REPORTLAB_FONT_LOCK:
        c = rl_canvas.Canvas(buffer, pagesize=(width, height))
        c.drawImage(ImageReader(jpeg), 0, 0, width=width, height=height)
        _draw_rows_pdf(c, width, height, text, visible=False)
        c.showPage()
        c.save()
    buffer.seek(0)
    return PdfReader(buffer).pages[0]


def stamp_pdf(source: Path, out: BinaryIO, stamp: Stamp, max_pages: int, max_pixels: int = MAX_RASTER_PIXELS) -> int:
    """Write ``source`` with the stamp across every page into ``out``; the number of pages."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import DependencyError, PyPdfError
    from pypdfium2 import PdfiumError

    try:
        reader = PdfReader(str(source), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise StampError("tệp PDF được mã hóa")
        count = len(reader.pages)
        if count > max_pages:
            raise StampError(f"tệp có {count} trang, quá giới hạn {max_pages}")
        looks = {index: _looks(page) for index, page in enumerate(reader.pages)}
        pictures = _picture_pages(source, count) | {index for index, found in looks.items() if found is None}
        text = stamp.text
        # A new document, page by page: nothing of the original travels but what its pages show.
        writer = PdfWriter()
        pages = []
        for index, original in enumerate(reader.pages):
            if index in pictures:
                writer.add_page(_raster_page(source, index, text, max_pixels))
            else:
                page = writer.add_page(_without_extras(original))
                pages.append((page, [(form.clone(writer), placed) for form, placed in looks[index] or []]))
        uses = _content_uses([page for page, _ in pages])
        stamps = _CopyStamps(writer, text)
        for page, page_looks in pages:
            quarter = _quarter_turns(page)
            box = _visible_box(page)
            width, height = box[2] - box[0], box[3] - box[1]
            if quarter % 2:
                width, height = height, width
            _stamp_page(writer, page, uses, stamps.form(width, height), _placement(quarter, box), quarter, page_looks)
        writer.add_metadata({"/ArchiveStamp": text})
        writer.write(out)
        return count
    except StampError:
        raise
    except (
        PyPdfError,
        DependencyError,  # a filter pypdf decodes with a program that is not installed
        NotImplementedError,  # a filter pypdf does not know
        PdfiumError,
        ValueError,
        KeyError,
        TypeError,
        OSError,
        AttributeError,
        zlib.error,
    ) as error:
        raise StampError(f"không đọc được tệp PDF: {error}") from error


# What a page may carry besides what it shows: a thumbnail (an unstamped picture of the page), an
# application's private data (PieceInfo: e.g. the whole drawing it was made from), actions run on
# opening or closing it, and annotations (drawn above any content, the stamp included; a file
# attachment carries a file, a widget or a stamp a picture). None of it travels in a copy but links.
_PAGE_EXTRAS = ("/Thumb", "/PieceInfo", "/AA", "/Annots")
_HIDDEN_FLAGS = 2 | 32  # Hidden, NoView (PDF 32000-1, 12.5.3)


def _annotations(page: Any) -> list[Any]:
    annots = page.get("/Annots")
    annots = None if annots is None else annots.get_object()
    return [a.get_object() for a in annots] if isinstance(annots, list) else []


def _shows(annotation: Any) -> bool:
    """Whether an annotation other than a link can be seen on the page: it has an appearance, a box
    with an area and is not hidden (what a viewer draws of it)."""
    if not hasattr(annotation, "get") or annotation.get("/Subtype") == "/Link":
        return False
    try:
        left, bottom, right, top = (float(v) for v in annotation.get("/Rect", (0, 0, 0, 0)))
        flags = int(annotation.get("/F", 0))
    except (TypeError, ValueError):
        return True  # not understood: shown, so rendered into the pixels (fails closed)
    return "/AP" in annotation and abs(right - left) * abs(top - bottom) > 0 and not flags & _HIDDEN_FLAGS


def _looks(page: Any) -> list[tuple[Any, tuple[float, ...]]] | None:
    """What the page's shown annotations look like, to be drawn into its content under the stamp (a
    visible signature, a stamp, a form's values): (appearance form, matrix placing it on its box), as
    a viewer draws it (PDF 32000-1, 12.5.5).  None when the page is to be rendered with them in its
    pixels instead: an annotation that covers ``PICTURE_SHARE`` of the page (it may hold a scan) or
    whose look is not understood (fails closed)."""
    box = _visible_box(page)
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1.0)
    found = []
    for annotation in _annotations(page):
        if not _shows(annotation):
            continue
        try:
            form, placed = _look(annotation)
            left, bottom, right, top = (float(v) for v in annotation["/Rect"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError):
            return None
        if abs(right - left) * abs(top - bottom) >= PICTURE_SHARE * area:
            return None
        found.append((form, placed))
    return found


def _look(annotation: Any) -> tuple[Any, tuple[float, ...]]:
    """The annotation's normal appearance (its state's, for a check box) as an indirect form, and the
    matrix that maps the form's box, through its own /Matrix, onto the annotation's /Rect."""
    form = annotation["/AP"]["/N"]  # pypdf resolves what it looks up
    if not hasattr(form, "get_data"):  # a dictionary of states: the one in /AS
        form = form[annotation["/AS"]]
    if not hasattr(form, "get_data") or form.indirect_reference is None:
        raise TypeError("appearance is not an indirect form")
    x0, y0, x1, y1 = (float(v) for v in form["/BBox"])
    a, b, c, d, e, f = (float(v) for v in form.get("/Matrix", (1, 0, 0, 1, 0, 0)))
    corners = [(a * x + c * y + e, b * x + d * y + f) for x, y in ((x0, y0), (x0, y1), (x1, y0), (x1, y1))]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    left, bottom, right, top = (float(v) for v in annotation["/Rect"])
    left, right, bottom, top = min(left, right), max(left, right), min(bottom, top), max(bottom, top)
    sx, sy = (right - left) / (max(xs) - min(xs)), (top - bottom) / (max(ys) - min(ys))
    return form.indirect_reference, (sx, 0.0, 0.0, sy, left - sx * min(xs), bottom - sy * min(ys))


def _plain_link(annotation: Any) -> bool:
    """A link that goes to a place in the document or to an address (no script, no launch)."""
    if not hasattr(annotation, "get") or annotation.get("/Subtype") != "/Link":
        return False
    action = annotation.get("/A")
    action = None if action is None else action.get_object()
    return action is None or (hasattr(action, "get") and action.get("/S") in ("/URI", "/GoTo"))


def _without_extras(page: Any) -> Any:
    """``page`` (of the original, before it is copied: what a copied page stops naming would still be
    written) without ``_PAGE_EXTRAS``, plain links kept (their targets, not their looks)."""
    from pypdf.generic import ArrayObject, NameObject

    links = ArrayObject()
    for annotation in _annotations(page):
        if _plain_link(annotation):
            annotation.pop(NameObject("/AP"), None)
            links.append(annotation.indirect_reference or annotation)
    for key in _PAGE_EXTRAS:
        page.pop(NameObject(key), None)
    if links:
        page[NameObject("/Annots")] = links
    return page


def _stamp_page(
    writer: Any,
    page: Any,
    uses: Counter[int],
    stamp_form: Any,
    matrix: tuple[float, ...],
    quarter: int,
    looks: Sequence[tuple[Any, tuple[float, ...]]] = (),
) -> None:
    """``page`` (of ``writer``) drawing its own content, then the stamp on top in page space.

    The page's content becomes a Form XObject (``_content_form``) drawn with ``Do``: a viewer
    restores the graphics state after a form, and a form's operators cannot undo more than the form
    itself saved, so whatever the content leaves behind (a Q without its q, a ``cm``, a clip, a text
    object or a string left open) ends with it, and the stamp is drawn in the page's own space.
    ``looks``: the page's shown annotations (``_looks``), drawn after the content, before the stamp.
    The page's /Resources become a copy of the original ones (inherited, or shared with other pages:
    those are not changed) with the two forms added under names that are not taken. The page keeps
    its /Rotate (normalised to what pdfium shows); the stamp is placed turned with it, so that it
    reads upright as the page is shown.
    """
    from pypdf.generic import ContentStream, DictionaryObject, FloatObject, NameObject, NumberObject

    original_resources = _resources(writer, page)
    resources = DictionaryObject(original_resources)
    xobjects = resources.get("/XObject")
    xobjects = None if xobjects is None else xobjects.get_object()
    xobjects = DictionaryObject(xobjects if isinstance(xobjects, DictionaryObject) else {})
    resources[NameObject("/XObject")] = xobjects
    operations: list[tuple[Any, bytes]] = []
    content = _content_form(writer, page, uses, original_resources)
    if content is not None:
        name = _free_name(xobjects, "/ArchiveOriginal")
        xobjects[name] = content
        operations += [([], b"q"), ([name], b"Do"), ([], b"Q")]
    for form, placed in looks:  # the shown annotations, flattened: under the stamp, as content
        name = _free_name(xobjects, "/ArchiveLook")
        xobjects[name] = form
        operations += [([], b"q"), ([FloatObject(v) for v in placed], b"cm"), ([name], b"Do"), ([], b"Q")]
    name = _free_name(xobjects, "/ArchiveStamp")
    xobjects[name] = stamp_form
    operations += [([], b"q"), ([FloatObject(v) for v in matrix], b"cm"), ([name], b"Do"), ([], b"Q")]
    stream = ContentStream(None, writer)
    stream.operations = operations
    page[NameObject("/Resources")] = resources
    page[NameObject("/Contents")] = writer._add_object(stream)
    page[NameObject("/Rotate")] = NumberObject(quarter * 90)


def _resources(writer: Any, page: Any) -> Any:
    """The page's /Resources (inherited ones are on the page once it is read) as an indirect object
    of the copy, or a new empty dictionary if it has none (missing, null or not a dictionary)."""
    from pypdf.generic import DictionaryObject, IndirectObject

    resources = page.get("/Resources")
    if isinstance(resources, IndirectObject) and isinstance(resources.get_object(), DictionaryObject):
        return resources.get_object()
    if isinstance(resources, DictionaryObject):
        writer._add_object(resources)  # one object, read by the content form and copied for the page
        return resources
    return writer._add_object(DictionaryObject()).get_object()


def _free_name(names: Any, base: str) -> Any:
    """``base``, or ``base`` with a number, whichever ``names`` does not have yet."""
    from pypdf.generic import NameObject

    name, n = base, 0
    while name in names:
        n += 1
        name = f"{base}{n}"
    return NameObject(name)


_PLAIN_STREAM_KEYS = frozenset({"/Length", "/Filter", "/DecodeParms", "/DL"})


def _content_streams(page: Any) -> list[Any]:
    """The page's /Contents as a list: the array's items, or the one stream (references, as stored)."""
    from pypdf.generic import ArrayObject, is_null_or_none

    contents = page.get("/Contents")
    if is_null_or_none(contents):
        return []
    resolved = contents.get_object()
    return list(resolved) if isinstance(resolved, ArrayObject) else [contents]


def _content_uses(pages: list[Any]) -> Counter[int]:
    """How many /Contents of ``pages`` name each object (the array, each stream), by object number."""
    from pypdf.generic import IndirectObject

    uses: Counter[int] = Counter()
    for page in pages:
        contents = page.get("/Contents")
        refs = [contents, *_content_streams(page)] if isinstance(contents, IndirectObject) else _content_streams(page)
        uses.update({ref.idnum for ref in refs if isinstance(ref, IndirectObject)})
    return uses


def _content_form(writer: Any, page: Any, uses: Counter[int], resources: Any) -> Any:
    """The page's content as a Form XObject with the page's resources, clipped to its MediaBox
    (its indirect reference), or None if it has none.

    Cheap, and the content is never parsed: a page's one stream that no other page uses becomes the
    form in place (same bytes, same filters: nothing decoded or encoded); several streams (they form
    one content stream together, split anywhere between tokens) are decoded, joined and compressed
    into one, and the parts only this page used are dropped from the copy.
    """
    from pypdf.generic import (
        ArrayObject,
        ContentStream,
        FloatObject,
        IndirectObject,
        NameObject,
        NullObject,
        StreamObject,
    )

    contents = page.get("/Contents")
    items = _content_streams(page)
    streams = [item for item in items if isinstance(item.get_object(), StreamObject)]
    if not streams:
        return None

    def own(ref: Any) -> bool:
        """Only this page's content: no other page's /Contents names it, and it is no XObject."""
        obj = ref.get_object()
        plain = isinstance(obj, ArrayObject) or (isinstance(obj, StreamObject) and set(obj) <= _PLAIN_STREAM_KEYS)
        return isinstance(ref, IndirectObject) and uses[ref.idnum] == 1 and plain

    if len(streams) == 1 and own(streams[0]):
        form = streams[0].get_object()
    else:
        form = ContentStream(ArrayObject(streams), writer).flate_encode()
        for ref in [contents, *items]:
            if own(ref):
                writer._replace_object(ref, NullObject())
    media = page.mediabox
    left, right = sorted((float(media.left), float(media.right)))
    bottom, top = sorted((float(media.bottom), float(media.top)))
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in (left, bottom, right, top))
    form[NameObject("/Resources")] = resources.indirect_reference
    return writer._add_object(form)


def _quarter_turns(page: Any) -> int:
    """The page's /Rotate in quarter turns clockwise, 0-3, read as pdfium reads it (a value that is
    not a multiple of 90 rounds toward zero); the copy is given exactly that."""
    try:
        return int(float(page.rotation) / 90) % 4
    except (TypeError, ValueError):
        return 0


def _placement(quarter: int, box: tuple[float, float, float, float]) -> tuple[float, ...]:
    """The ``cm`` that puts a form drawn upright for the page as shown (its size turned with the
    page) onto the visible box ``box`` of a page turned ``quarter`` quarter turns clockwise."""
    left, bottom, right, top = box
    return {
        0: (1.0, 0.0, 0.0, 1.0, left, bottom),
        1: (0.0, 1.0, -1.0, 0.0, right, bottom),
        2: (-1.0, 0.0, 0.0, -1.0, right, top),
        3: (0.0, -1.0, 1.0, 0.0, left, top),
    }[quarter]


def _visible_box(page) -> tuple[float, float, float, float]:
    """Where a viewer shows the page: the CropBox inside the MediaBox (left, bottom, right, top)."""
    media, crop = page.mediabox, page.cropbox
    left, bottom = max(float(media.left), float(crop.left)), max(float(media.bottom), float(crop.bottom))
    right, top = min(float(media.right), float(crop.right)), min(float(media.top), float(crop.top))
    if right - left < 1 or top - bottom < 1:  # a nonsense CropBox: viewers fall back to the MediaBox
        return float(media.left), float(media.bottom), float(media.right), float(media.top)
    return left, bottom, right, top


def image_to_stamped_pdf(source: Path, out: BinaryIO, stamp: Stamp, max_pages: int, max_pixels: int) -> int:
    """Every frame of an image file as a PDF page of its own size, the stamp in its pixels; the number of pages."""
    from PIL import Image, ImageSequence, UnidentifiedImageError
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as rl_canvas

    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(source) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > max_pages:
                raise StampError(f"ảnh có {frames} trang, quá giới hạn {max_pages}")
            text = stamp.text
            pages: list[tuple[float, float, io.BytesIO]] = []
            for frame in ImageSequence.Iterator(image):
                dpi = frame.info.get("dpi") or (150, 150)
                xdpi, ydpi = (float(dpi[0]) or 150.0, float(dpi[1]) or 150.0)
                jpeg = io.BytesIO()
                _draw_rows_pixels(frame, text).save(jpeg, format="JPEG", quality=JPEG_QUALITY)
                jpeg.seek(0)
                pages.append((frame.width * 72.0 / xdpi, frame.height * 72.0 / ydpi, jpeg))
            with _REPORTLAB_FONT_LOCK:  # the pixels above are stamped outside it
                c = rl_canvas.Canvas(out)
                for width, height, jpeg in pages:
                    c.setPageSize((width, height))
                    c.drawImage(ImageReader(jpeg), 0, 0, width=width, height=height)
                    _draw_rows_pdf(c, width, height, text, visible=False)
                    c.showPage()
                c.save()
            return frames
    except StampError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        raise StampError(f"không đọc được ảnh: {error}") from error


def stamp_png(png: bytes, stamp: Stamp) -> bytes:
    """A rendered page image with the stamp burned in across it (same size as the page)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        stamped = _draw_rows_pixels(image, stamp.text)
    out = io.BytesIO()
    stamped.save(out, format="PNG")
    return out.getvalue()
