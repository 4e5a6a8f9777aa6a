"""Visible stamps burned into what lookup accounts take away: who, which unit, when.

The stamp is drawn *across* the page, in rows spread over the whole visible box
(the CropBox, where a viewer shows the page), so cropping a margin or a band
never removes it:

* PDF pages with vector content and text: a transparent overlay (reportlab, a
  font covering Vietnamese) merged over every page with pypdf, sized and placed
  on the page's visible box.
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


def _draw_rows_pdf(canvas: Any, width: float, height: float, text: str, *, visible: bool = True) -> None:
    """The stamp rows on a reportlab canvas of the visible box's size (origin at its lower left)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = _font()
    size, baselines = _layout(width, height)
    canvas.saveState()
    text_object = canvas.beginText()
    text_object.setFont(font, size)
    if visible:
        canvas.setFillColorRGB(*(c / 255 for c in STAMP_RGB))
        canvas.setFillAlpha(STAMP_ALPHA)
    else:
        text_object.setTextRenderMode(3)  # invisible: the words of a stamp already in the pixels
    for n, y in enumerate(baselines):
        shift = -(n % 2) * size * 6  # rows staggered, so no column of the page stays clear
        row = _row_text(text, width - shift + size, lambda s: stringWidth(s, font, size))
        text_object.setTextOrigin(shift, y - size / 3)
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


def _overlay_page(width: float, height: float, text: str):
    from pypdf import PdfReader
    from reportlab.pdfgen import canvas as rl_canvas

    buffer = io.BytesIO()
    with _REPORTLAB_FONT_LOCK:
        c = rl_canvas.Canvas(buffer, pagesize=(width, height))
        _draw_rows_pdf(c, width, height, text)
        c.showPage()
        c.save()
    buffer.seek(0)
    return PdfReader(buffer).pages[0]


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
    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.errors import PyPdfError
    from pypdfium2 import PdfiumError

    try:
        reader = PdfReader(str(source), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise StampError("tệp PDF được mã hóa")
        count = len(reader.pages)
        if count > max_pages:
            raise StampError(f"tệp có {count} trang, quá giới hạn {max_pages}")
        pictures = _picture_pages(source, count)
        text = stamp.text
        # A new document, page by page: nothing of the original travels but what its pages show.
        writer = PdfWriter()
        overlays: dict[tuple[float, float], Any] = {}
        for index, original in enumerate(reader.pages):
            if index in pictures:
                writer.add_page(_raster_page(source, index, text, max_pixels))
                continue
            page = writer.add_page(original)
            if page.rotation:
                page.transfer_rotation_to_content()  # the stamp stays upright as the page is shown
            box = _visible_box(page)
            key = (round(box[2] - box[0], 2), round(box[3] - box[1], 2))
            if key not in overlays:
                overlays[key] = _overlay_page(key[0], key[1], text)
            page.merge_transformed_page(overlays[key], Transformation().translate(box[0], box[1]), over=True)
        writer.add_metadata({"/ArchiveStamp": text})
        writer.write(out)
        return count
    except StampError:
        raise
    except (PyPdfError, PdfiumError, ValueError, KeyError, TypeError, OSError, AttributeError) as error:
        raise StampError(f"không đọc được tệp PDF: {error}") from error


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
