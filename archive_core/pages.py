"""Pages as pictures: a page of a PDF or a frame of an image, rendered one way for OCR, re-OCR and the portal.

Pixel bombs are refused before anything big is decoded: a PDF page whose
rendering at the requested resolution would exceed ``max_pixels`` is rendered
at a lower one (``Rendered.reduced`` says so), and an image frame larger than
``max_pixels`` is refused.  A file that cannot be opened raises
``PageRefused`` with a reason fit for an ingest report.

pdfium is not thread-safe: a process that renders from several threads holds
one lock around these calls (the portal's ``PDFIUM_LOCK``).
"""

from __future__ import annotations

import io
import mmap
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image, UnidentifiedImageError

PDF_TYPES = frozenset({"application/pdf"})
POINTS_PER_INCH = 72
MAX_FIT_SCALE = 8.0  # a tiny page is not blown up beyond 576 dpi to fill a box
_BOMB = "ảnh quá lớn: {w}×{h} = {px} điểm ảnh > {limit} (decompression bomb refused)"


class PageRefused(Exception):
    """The page cannot be rendered; ``reason`` (Vietnamese, with the English term) says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __reduce__(self):  # survive the trip back from a worker process
        return (type(self), (self.reason,))


@dataclass(frozen=True)
class Rendered:
    image: Image.Image
    dpi: float  # the resolution it was rendered at (lower than asked when ``reduced``)
    reduced: bool = False


# -- PDF -----------------------------------------------------------------------------------------
def signature_free(pdf: pdfium.PdfDocument, source: bytes | str | Path) -> bool:
    """True only when ``pdf`` (opened from ``source``) surely holds no digital signature: no ``/ByteRange``
    stands in its bytes and PDFium counts no signature field with a value (``FPDF_GetSignatureCount``).
    Any doubt (an empty file, an error) gives False, so pyHanko looks."""
    try:
        if isinstance(source, bytes):
            if b"/ByteRange" in source:
                return False
        else:
            with open(source, "rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    return False
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    if data.find(b"/ByteRange") >= 0:
                        return False
        return pdfium_raw.FPDF_GetSignatureCount(pdf.raw) == 0
    except Exception:
        return False


def open_pdf(path: Path) -> pdfium.PdfDocument:
    """The PDF, or PageRefused for a password, an unsupported security handler or damage."""
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_raw.FPDF_ERR_PASSWORD:
            raise PageRefused("PDF có mật khẩu (password-protected PDF)") from None
        if exc.err_code == pdfium_raw.FPDF_ERR_SECURITY:
            raise PageRefused("PDF dùng cơ chế bảo mật không hỗ trợ (unsupported security handler)") from None
        raise PageRefused(f"PDF hỏng: không mở được (corrupt PDF: {exc})") from None


def render_pdf_page(page: pdfium.PdfPage, dpi: float, *, max_pixels: int, grey: bool = True) -> Rendered:
    """The page at ``dpi`` (greyscale by default), scaled down to fit ``max_pixels``."""
    width_pt, height_pt = page.get_size()
    scale = dpi / POINTS_PER_INCH
    pixels = width_pt * scale * height_pt * scale
    reduced = pixels > max_pixels
    if reduced:
        scale *= (max_pixels / pixels) ** 0.5
    bitmap = page.render(scale=scale, grayscale=grey, may_draw_forms=True)
    try:
        image = bitmap.to_pil()
        image = image.convert("L") if grey else image.copy()  # a copy: the bitmap buffer can go
    finally:
        bitmap.close()
    return Rendered(image, scale * POINTS_PER_INCH, reduced)


def fit_dpi(page: pdfium.PdfPage, width: int, height: int) -> float:
    """The resolution at which the page fits in ``width`` × ``height`` pixels."""
    width_pt, height_pt = page.get_size()
    scale = min(width / max(width_pt, 1), height / max(height_pt, 1), MAX_FIT_SCALE)
    return scale * POINTS_PER_INCH


# -- images ----------------------------------------------------------------------------------------
def open_image(path: Path) -> Image.Image:
    """The image with its header read and nothing decoded; PageRefused if it is damaged or a bomb."""
    with warnings.catch_warnings():
        # Our own limit (``load_frame``) decides; Pillow's warning/error only backs it up.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError as exc:
            raise PageRefused(f"ảnh quá lớn (decompression bomb refused): {exc}") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise PageRefused(f"ảnh hỏng, không đọc được (corrupt image: {exc})") from None


def frame_count(image: Image.Image) -> int:
    return getattr(image, "n_frames", 1)


def load_frame(image: Image.Image, index: int, *, max_pixels: int) -> Image.Image:
    """Frame ``index`` (0-based) decoded and copied, after its size is checked against ``max_pixels``.

    Damage in the frame raises what Pillow raises (OSError, EOFError, …): the
    caller decides whether one bad frame refuses the file."""
    image.seek(index)  # reads this frame's header (IFD) only
    w, h = image.size
    if w * h > max_pixels:
        where = f"khung {index + 1}: " if index else ""
        raise PageRefused(where + _BOMB.format(w=w, h=h, px=w * h, limit=max_pixels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image.load()
        except Image.DecompressionBombError as exc:
            raise PageRefused(f"ảnh quá lớn (decompression bomb refused): {exc}") from None
    return image.copy()


# -- one page of a stored original -----------------------------------------------------------------
def pdf_page_image(
    path: Path,
    number: int,
    *,
    max_pixels: int,
    dpi: float | None = None,
    fit: tuple[int, int] | None = None,
    grey: bool = True,
) -> Rendered:
    """Page ``number`` (1-based) of a PDF at ``dpi``, or fitted into ``fit`` (width, height)."""
    pdf = open_pdf(path)
    try:
        if not 1 <= number <= len(pdf):
            raise PageRefused(f"không có trang {number} (page out of range)")
        page = pdf[number - 1]
        try:
            wanted = fit_dpi(page, *fit) if fit else (dpi or POINTS_PER_INCH)
            return render_pdf_page(page, wanted, max_pixels=max_pixels, grey=grey)
        finally:
            page.close()
    finally:
        pdf.close()


def image_frame(path: Path, number: int, *, max_pixels: int, fit: tuple[int, int] | None = None) -> Rendered:
    """Frame ``number`` (1-based) of an image at its own resolution and mode; with ``fit``, a picture
    to show: RGB (or greyscale), no larger than the box."""
    with open_image(path) as image:
        if not 1 <= number <= frame_count(image):
            raise PageRefused(f"không có trang {number} (page out of range)")
        frame = load_frame(image, number - 1, max_pixels=max_pixels)
    if fit:
        if frame.mode not in ("RGB", "L"):
            frame = frame.convert("RGB")
        if frame.width > fit[0] or frame.height > fit[1]:
            frame.thumbnail(fit)
    return Rendered(frame, float(frame.info.get("dpi", (0, 0))[0] or 0))


def page_image(path: Path, media_type: str, number: int, *, max_pixels: int, dpi: float | None = None) -> Rendered:
    """Page ``number`` (1-based) of a stored PDF (rendered greyscale at ``dpi``) or image, as OCR reads it.

    PageRefused when the page does not exist or cannot be rendered."""
    if media_type in PDF_TYPES:
        return pdf_page_image(path, number, max_pixels=max_pixels, dpi=dpi)
    return image_frame(path, number, max_pixels=max_pixels)


def to_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
