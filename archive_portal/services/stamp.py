"""Visible stamps on what lookup accounts take away: who, which unit, when.

* PDFs: a one-line overlay (reportlab, in a font covering Vietnamese) merged
  on every page with pypdf; the file is rewritten whole (not an incremental
  update, which would keep the unstamped original as a prefix anyone could cut
  back to) into a temporary file that is streamed out and then deleted.
* Images (PNG/JPEG/TIFF): converted to a PDF, one page per frame at the
  image's own resolution, with the same stamp as real text.
* Page images rendered for the document page: the stamp is drawn in a band
  under the picture.

Bounded: at most ``max_pages`` pages or frames, the image pixel limit of the
settings, one overlay built per distinct page size.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

VN_TZ = timezone(timedelta(hours=7), "ICT")  # Vietnam keeps UTC+7 all year
FONT_NAME = "ArchiveStamp"
FONT_SIZE = 8.0
MARGIN = 14.0  # points from the page edge
STAMP_GRAY = 0.35

_font_path: str | None = None


class StampError(RuntimeError):
    """The file cannot be stamped (encrypted, damaged, too large): it must not leave unstamped."""


@dataclass(frozen=True)
class Stamp:
    username: str
    unit_name: str
    at: datetime  # aware, or naive UTC

    @property
    def text(self) -> str:
        at = self.at if self.at.tzinfo else self.at.replace(tzinfo=timezone.utc)
        parts = [f"Tải bởi: {self.username}"]
        if self.unit_name:
            parts.append(self.unit_name)
        parts.append(at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M"))
        return " · ".join(parts)


def _font() -> str:
    """The registered reportlab font name (a Vietnamese-capable TrueType font of the system)."""
    global _font_path
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from archive_core.fonts import find_fonts

    if _font_path is None:
        _font_path = find_fonts()[0]
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, _font_path))
    return FONT_NAME


def _draw_stamp(canvas, width: float, height: float, text: str) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = _font()
    size = FONT_SIZE
    room = max(width - 2 * MARGIN, 50.0)
    natural = stringWidth(text, font, size)
    if natural > room:
        size = max(3.0, size * room / natural)
    text_width = stringWidth(text, font, size)
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.setFillAlpha(0.8)
    canvas.rect(MARGIN - 3, MARGIN - 3, text_width + 6, size + 5, stroke=0, fill=1)
    canvas.setFillAlpha(1)
    canvas.setFillGray(STAMP_GRAY)
    canvas.setFont(font, size)
    canvas.drawString(MARGIN, MARGIN, text)
    canvas.restoreState()


def _overlay_page(width: float, height: float, text: str):
    from pypdf import PdfReader
    from reportlab.pdfgen import canvas as rl_canvas

    buffer = io.BytesIO()
    c = rl_canvas.Canvas(buffer, pagesize=(width, height))
    _draw_stamp(c, width, height, text)
    c.showPage()
    c.save()
    buffer.seek(0)
    return PdfReader(buffer).pages[0]


def stamp_pdf(source: Path, out: BinaryIO, stamp: Stamp, max_pages: int) -> int:
    """Write ``source`` with the stamp on every page into ``out``; the number of pages."""
    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(source), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise StampError("tệp PDF được mã hóa")
        count = len(reader.pages)
        if count > max_pages:
            raise StampError(f"tệp có {count} trang, quá giới hạn {max_pages}")
        writer = PdfWriter(clone_from=reader)
        overlays: dict[tuple[float, float], object] = {}
        text = stamp.text
        for page in writer.pages:
            if page.rotation:
                page.transfer_rotation_to_content()  # the stamp stays upright as the page is shown
            box = page.mediabox
            key = (round(float(box.width), 2), round(float(box.height), 2))
            if key not in overlays:
                overlays[key] = _overlay_page(key[0], key[1], text)
            page.merge_transformed_page(
                overlays[key], Transformation().translate(float(box.left), float(box.bottom)), over=True
            )
        writer.add_metadata({"/ArchiveStamp": text})
        writer.write(out)
        return count
    except StampError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise StampError(f"không đọc được tệp PDF: {error}") from error


def image_to_stamped_pdf(source: Path, out: BinaryIO, stamp: Stamp, max_pages: int, max_pixels: int) -> int:
    """Every frame of an image file as a PDF page of its own size, stamped; the number of pages."""
    from PIL import Image, ImageSequence, UnidentifiedImageError
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as rl_canvas

    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(source) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > max_pages:
                raise StampError(f"ảnh có {frames} trang, quá giới hạn {max_pages}")
            c = rl_canvas.Canvas(out)
            text = stamp.text
            for frame in ImageSequence.Iterator(image):
                dpi = frame.info.get("dpi") or (150, 150)
                xdpi, ydpi = (float(dpi[0]) or 150.0, float(dpi[1]) or 150.0)
                width, height = frame.width * 72.0 / xdpi, frame.height * 72.0 / ydpi
                rgb = frame.convert("RGB") if frame.mode not in ("RGB", "L", "1") else frame.copy()
                c.setPageSize((width, height))
                c.drawImage(ImageReader(rgb), 0, 0, width=width, height=height)
                _draw_stamp(c, width, height, text)
                c.showPage()
            c.save()
            return frames
    except StampError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        raise StampError(f"không đọc được ảnh: {error}") from error


def stamp_png(png: bytes, stamp: Stamp) -> bytes:
    """A rendered page image with the stamp in a white band under it."""
    from PIL import Image, ImageDraw, ImageFont

    _font()
    with Image.open(io.BytesIO(png)) as image:
        page = image.convert("RGB")
    size = max(10, min(18, page.width // 60))
    font = ImageFont.truetype(_font_path, size)
    band = size + 10
    stamped = Image.new("RGB", (page.width, page.height + band), "white")
    stamped.paste(page, (0, 0))
    ImageDraw.Draw(stamped).text((6, page.height + 4), stamp.text, fill=(90, 90, 90), font=font)
    out = io.BytesIO()
    stamped.save(out, format="PNG")
    return out.getvalue()
