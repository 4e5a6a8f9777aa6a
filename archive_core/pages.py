"""Pages as pictures: a page of a PDF or a frame of an image, rendered one way for OCR, re-OCR and the portal.

Pixel bombs are refused before anything big is decoded: a PDF page whose
rendering at the requested resolution would exceed ``max_pixels`` is rendered
at a lower one (``Rendered.reduced`` says so), and an image frame larger than
``max_pixels`` is refused.  A file that cannot be opened raises
``PageRefused`` with a reason fit for an ingest report.

pdfium is not thread-safe: a process that renders from several threads holds
one lock around these calls (the portal's ``PDFIUM_LOCK``).

A scanned page (one plain image filling the page, nothing else) is rendered
greyscale from its image decoded natively and scaled up with PIL, as pdfium
would draw it for ~2/3 of pdfium's CPU (``_scan_page``); anything unusual goes to pdfium.
"""

from __future__ import annotations

import io
import logging
import math
import mmap
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image, ImageChops, UnidentifiedImageError

log = logging.getLogger(__name__)

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
    scan = _scan_page(page, scale) if grey else None
    if scan is not None:
        return Rendered(scan, scale * POINTS_PER_INCH, reduced)
    bitmap = page.render(scale=scale, grayscale=grey, may_draw_forms=True)
    try:
        image = bitmap.to_pil()
        image = image.convert("L") if grey else image.copy()  # a copy: the bitmap buffer can go
    finally:
        bitmap.close()
    return Rendered(image, scale * POINTS_PER_INCH, reduced)


# -- a scanned page without pdfium's renderer -----------------------------------------------------
# pdfium's greyscale render of a 200-dpi scan at 300 dpi costs ~95-115 ms of CPU a page; decoding the page's
# image natively (~7 ms) and stretching it with PIL (~35 ms) gives the same pixels (mean difference 0.4 grey
# level).  Only pages pdfium would draw as that image alone take this path; a small pdfium render of the page
# (~12 ms with the comparison) checks what the API cannot tell (a soft mask, a colour-key /Mask, ...; the
# image's /Decode pdfium's decoder applies itself).
_PLAIN_IMAGES = {  # colour space -> bits per pixel taken
    pdfium_raw.FPDF_COLORSPACE_DEVICEGRAY: (1, 8),
    pdfium_raw.FPDF_COLORSPACE_DEVICERGB: (24,),
}
_COVER_SLACK = 0.01  # the image's edges within 1 % of the page's
_GUARD_REDUCTION = 16  # the check renders the page at 1/16 of the image's own resolution
_GUARD_MEAN = 3.0  # grey levels: mean difference allowed between that render and the image reduced alike
_GUARD_FAR, _GUARD_FAR_SHARE = 48, 0.002  # and at most 0.2 % of its pixels farther apart than 48 levels


def _scan_image(page: pdfium.PdfPage) -> tuple[pdfium.PdfImage, tuple[float, float, float, float]] | None:
    """The page's one image object and its rectangle on the page (points), when the page is nothing but
    one plain image (grey or RGB) covering its box, upright, without annotations, clip or transparency."""
    if page.get_rotation() != 0 or pdfium_raw.FPDFPage_GetAnnotCount(page) != 0:
        return None
    if pdfium_raw.FPDFPage_CountObjects(page) != 1:
        return None
    obj = pdfium_raw.FPDFPage_GetObject(page, 0)
    if not obj or pdfium_raw.FPDFPageObj_GetType(obj) != pdfium_raw.FPDF_PAGEOBJ_IMAGE:
        return None
    image = pdfium.PdfObject(obj, page=page, pdf=page.pdf)
    assert isinstance(image, pdfium.PdfImage)
    if pdfium_raw.FPDFPageObj_HasTransparency(image):
        return None
    clip = pdfium_raw.FPDFPageObj_GetClipPath(image)
    if clip and pdfium_raw.FPDFClipPath_CountPaths(clip) > 0:
        return None
    meta = image.get_metadata()
    if meta.bits_per_pixel not in _PLAIN_IMAGES.get(meta.colorspace, ()):
        return None
    a, b, c, d, e, f = image.get_matrix().get()
    if b != 0 or c != 0 or a <= 0 or d <= 0:
        return None
    left, bottom, right, top = page.get_bbox()
    slack_x, slack_y = (right - left) * _COVER_SLACK, (top - bottom) * _COVER_SLACK
    for edge, page_edge, slack in (
        (e, left, slack_x),
        (e + a, right, slack_x),
        (f, bottom, slack_y),
        (f + d, top, slack_y),
    ):
        if abs(edge - page_edge) > slack:
            return None
    return image, (e, f, e + a, f + d)


def _outer(start: float, end: float) -> tuple[int, int]:
    """The whole pixels from ``start`` to ``end``, an edge within rounding noise of a pixel's taken as on it."""
    return math.floor(start + 1e-6), math.ceil(end - 1e-6)


def _draw(
    native: Image.Image, rect: tuple[float, float, float, float], page: pdfium.PdfPage, scale: float, resample
) -> Image.Image:
    """``native`` drawn as pdfium draws it on the page rendered at ``scale``: pypdfium2 asks for the page
    stretched over a canvas of ``ceil`` (page size × scale) pixels, and pdfium stretches the image over
    the whole pixels its rectangle touches on it; white where it does not reach."""
    left, _bottom, _right, top = page.get_bbox()
    width_pt, height_pt = page.get_size()
    canvas = (math.ceil(width_pt * scale), math.ceil(height_pt * scale))
    sx, sy = canvas[0] / width_pt, canvas[1] / height_pt
    x0, x1 = _outer((rect[0] - left) * sx, (rect[2] - left) * sx)
    y0, y1 = _outer((top - rect[3]) * sy, (top - rect[1]) * sy)
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(canvas[0], x1), min(canvas[1], y1)  # what the canvas shows
    kx, ky = native.width / (x1 - x0), native.height / (y1 - y0)  # image pixels per canvas pixel
    box = ((cx0 - x0) * kx, (cy0 - y0) * ky, (cx1 - x0) * kx, (cy1 - y0) * ky)
    drawn = native.resize((cx1 - cx0, cy1 - cy0), resample, box=box)
    if drawn.size == canvas:
        return drawn
    page_image = Image.new("L", canvas, 255)
    page_image.paste(drawn, (cx0, cy0))
    return page_image


def _looks_alike(rendered: Image.Image, ours: Image.Image) -> bool:
    """pdfium's small render and ours show the same page: close on average and nearly everywhere, allowing
    the one-pixel shift pdfium's rounding of the image's rectangle can give at a small scale."""
    w, h = rendered.size
    if (w, h) != ours.size or w < 8 or h < 8:
        return False
    inner = ours.crop((1, 1, w - 1, h - 1))
    count = (w - 2) * (h - 2)
    for dx, dy in ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)):
        histogram = ImageChops.difference(rendered.crop((1 + dx, 1 + dy, w - 1 + dx, h - 1 + dy)), inner).histogram()
        mean = sum(level * n for level, n in enumerate(histogram)) / count
        if mean <= _GUARD_MEAN and sum(histogram[_GUARD_FAR + 1 :]) <= _GUARD_FAR_SHARE * count:
            return True
    return False


def _scan_page(page: pdfium.PdfPage, scale: float) -> Image.Image | None:
    """The page at ``scale`` (greyscale) from its one scanned image, or None when pdfium must render it:
    not such a page, an image finer than ``scale`` (pdfium's downscaling stays), a check that fails or
    any error (the page is never lost to this path)."""
    try:
        found = _scan_image(page)
        if found is None:
            return None
        image, rect = found
        px_w, px_h = image.get_px_size()
        native_scale = max(px_w / (rect[2] - rect[0]), px_h / (rect[3] - rect[1]))  # pixels per point
        if native_scale > scale * 1.001:
            return None
        bitmap = image.get_bitmap(render=False)
        try:
            native = bitmap.to_pil().convert("L")  # a copy (ITU-R 601 luma, as pdfium's greyscale)
        finally:
            bitmap.warn_on_close = False  # nothing refers to its buffer any more
            bitmap.close()
        if native.size != (px_w, px_h):
            return None
        guard_scale = native_scale / _GUARD_REDUCTION
        small = page.render(scale=guard_scale, may_draw_forms=True)  # in colour: pdfium's grey mode costs 2.5x
        try:
            rendered = small.to_pil().convert("L")
        finally:
            small.close()
        if not _looks_alike(rendered, _draw(native, rect, page, guard_scale, Image.Resampling.BOX)):
            return None
        return _draw(native, rect, page, scale, Image.Resampling.BILINEAR)
    except Exception as exc:  # pdfium renders it instead
        log.debug("trang quét: vẽ bằng pdfium (%s)", exc)
        return None


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
