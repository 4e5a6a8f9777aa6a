"""OCR renders of scanned PDF pages (archive_core.pages): a page that is one plain scanned image is drawn
from that image with PIL, pixel for pixel as pdfium draws it; any other page is pdfium's own render.

The PDFs are real files made here (Pillow, reportlab, pypdf for what neither writes); pdfium renders the
reference in each test.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops, ImageOps
from pypdf.generic import ArrayObject, BooleanObject, NameObject, NumberObject
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from archive_core import pages
from archive_core.pages import open_pdf, render_pdf_page
from specimens import make_specimens, render_scan

OCR_DPI = 300
SCAN_DPI = 200
MAX_PIXELS = 120_000_000


@pytest.fixture(scope="module")
def scan_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scans")


@pytest.fixture(scope="module")
def scan_pdf(scan_dir) -> Path:
    """A 200-dpi scan as a scanner writes it: one greyscale JPEG filling an A4 page (Pillow's PDF)."""
    return render_scan(make_specimens(1, seed=11)[0], scan_dir / "scan.pdf", "pdf", dpi=SCAN_DPI)


@pytest.fixture(scope="module")
def scan_image(scan_dir) -> Image.Image:
    """The same scan as a picture, to lay out other pages with."""
    return Image.open(render_scan(make_specimens(1, seed=11)[0], scan_dir / "scan.png", "png", dpi=SCAN_DPI)).convert(
        "L"
    )


def page_size(image: Image.Image, dpi: int = SCAN_DPI) -> tuple[float, float]:
    return image.width * 72 / dpi, image.height * 72 / dpi


def reportlab_pdf(path: Path, size: tuple[float, float], draw, rotation: int = 0) -> Path:
    pdf = canvas.Canvas(str(path), pagesize=size)
    if rotation:
        pdf.setPageRotation(rotation)
    draw(pdf)
    pdf.showPage()
    pdf.save()
    return path


def edit_images(source: Path, path: Path, **entries) -> Path:
    """``source`` with entries set in its page's image dictionary (what neither Pillow nor reportlab write)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(source))
    for ref in writer.pages[0]["/Resources"]["/XObject"].values():
        image = ref.get_object()
        for key, value in entries.items():
            if value is None:
                del image[NameObject("/" + key)]
            else:
                image[NameObject("/" + key)] = value
    writer.write(path)
    return path


def pdfium_render(path: Path, dpi: float = OCR_DPI) -> Image.Image:
    pdf = pdfium.PdfDocument(path)
    try:
        return pdf[0].render(scale=dpi / 72, grayscale=True, may_draw_forms=True).to_pil().convert("L")
    finally:
        pdf.close()


def archive_render(path: Path, dpi: float = OCR_DPI, max_pixels: int = MAX_PIXELS) -> tuple[pages.Rendered, bool]:
    """render_pdf_page's result, and whether the page takes the scanned-image path."""
    pdf = open_pdf(path)
    try:
        page = pdf[0]
        fast = pages._scan_page(page, dpi / 72) is not None
        return render_pdf_page(page, dpi, max_pixels=max_pixels), fast
    finally:
        pdf.close()


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    histogram = ImageChops.difference(a, b).histogram()
    return sum(level * n for level, n in enumerate(histogram)) / (a.width * a.height)


def far_share(a: Image.Image, b: Image.Image, levels: int = 64) -> float:
    histogram = ImageChops.difference(a, b).histogram()
    return sum(histogram[levels + 1 :]) / (a.width * a.height)


# -- scanned pages: the fast path, pdfium's pixels -----------------------------------------------------
def test_a_200_dpi_scan_is_drawn_from_its_image_as_pdfium_draws_it(scan_pdf):
    rendered, fast = archive_render(scan_pdf)
    reference = pdfium_render(scan_pdf)
    assert fast
    assert rendered.image.mode == "L" and rendered.image.size == reference.size == (2482, 3509)
    assert rendered.dpi == OCR_DPI and not rendered.reduced
    assert mean_difference(rendered.image, reference) < 1.0
    assert far_share(rendered.image, reference) < 0.001


@pytest.mark.ocr
def test_tesseract_reads_the_same_text_from_it(scan_pdf):
    from ingest.ocr import ocr_image

    rendered, fast = archive_render(scan_pdf)
    assert fast
    ours, theirs = ocr_image(rendered.image, "vie"), ocr_image(pdfium_render(scan_pdf), "vie")
    assert len(ours.text) > 500
    # the letter's text line for line; a line of specks (the signature's noise) may read otherwise
    ours_lines, their_lines = ours.text.splitlines(), theirs.text.splitlines()
    assert len(ours_lines) == len(their_lines)
    differing = [(a, b) for a, b in zip(ours_lines, their_lines, strict=True) if a != b]
    assert len(differing) <= 2, differing
    assert difflib.SequenceMatcher(None, ours.text, theirs.text).ratio() > 0.98


def test_a_page_too_large_is_reduced_as_before(scan_pdf):
    rendered, fast = archive_render(scan_pdf, max_pixels=2_000_000)
    assert fast and rendered.reduced and rendered.dpi < OCR_DPI
    reference = pdfium_render(scan_pdf, rendered.dpi)
    assert rendered.image.size == reference.size
    assert rendered.image.width * rendered.image.height <= 2_000_000 * 1.01
    assert mean_difference(rendered.image, reference) < 1.0


def test_a_scan_at_the_ocr_resolution_is_its_own_image(scan_pdf):
    rendered, fast = archive_render(scan_pdf, dpi=SCAN_DPI)
    reference = pdfium_render(scan_pdf, SCAN_DPI)
    assert fast and rendered.image.size == reference.size
    assert mean_difference(rendered.image, reference) < 1.0


@pytest.mark.parametrize("kind", ["bilevel", "rgb", "flate", "inset"])
def test_other_plain_scans_take_the_fast_path_too(kind, scan_image, scan_dir):
    path = scan_dir / f"{kind}.pdf"
    if kind == "bilevel":  # CCITT G4, 1 bit per pixel
        scan_image.point(lambda v: 255 if v > 170 else 0).convert("1").save(path, resolution=float(SCAN_DPI))
    elif kind == "rgb":
        toned = scan_image.point(lambda v: min(255, v + 25))
        Image.merge("RGB", (scan_image, toned, scan_image)).save(path, resolution=float(SCAN_DPI))
    else:
        width, height = page_size(scan_image)
        inset = 3 if kind == "inset" else 0  # the image 3 pt short of each edge (within 1 %): white shows
        reportlab_pdf(
            path,
            (width, height),
            lambda pdf: pdf.drawImage(ImageReader(scan_image), inset, inset, width - 2 * inset, height - 2 * inset),
        )
    rendered, fast = archive_render(path)
    reference = pdfium_render(path)
    assert fast and rendered.image.size == reference.size
    assert mean_difference(rendered.image, reference) < 1.0
    assert far_share(rendered.image, reference) < 0.001


# -- pages pdfium must draw ------------------------------------------------------------------------------
def fallback_page(kind: str, scan_image: Image.Image, scan_pdf: Path, folder: Path) -> Path:
    width, height = page_size(scan_image)
    path = folder / f"{kind}.pdf"
    whole = lambda pdf: pdf.drawImage(ImageReader(scan_image), 0, 0, width, height)
    if kind == "rotated":
        return reportlab_pdf(path, (width, height), whole, rotation=90)
    if kind == "annotation":
        return reportlab_pdf(
            path, (width, height), lambda pdf: (whole(pdf), pdf.linkURL("https://example.org", (60, 60, 260, 90)))
        )
    if kind == "soft-mask":  # a quarter of the scan transparent: the API does not tell, the check sees it
        rgba = scan_image.convert("RGBA")
        alpha = Image.new("L", scan_image.size, 255)
        alpha.paste(0, (0, 0, scan_image.width // 2, scan_image.height // 2))
        rgba.putalpha(alpha)
        return reportlab_pdf(
            path, (width, height), lambda pdf: pdf.drawImage(ImageReader(rgba), 0, 0, width, height, mask="auto")
        )
    if kind == "two-images":
        stamp = scan_image.resize((200, 200))
        return reportlab_pdf(
            path, (width, height), lambda pdf: (whole(pdf), pdf.drawImage(ImageReader(stamp), 40, 40, 80, 80))
        )
    if kind == "text-beside":
        return reportlab_pdf(path, (width, height), lambda pdf: (whole(pdf), pdf.drawString(40, 40, "Bản sao")))
    if kind == "not-covering":
        return reportlab_pdf(
            path,
            (width, height),
            lambda pdf: pdf.drawImage(ImageReader(scan_image), 0, height / 2, width / 2, height / 2),
        )
    if kind == "image-mask":  # a stencil painted in the fill colour, not a picture
        bilevel = folder / "stencil-source.pdf"
        scan_image.point(lambda v: 255 if v > 170 else 0).convert("1").save(bilevel, resolution=float(SCAN_DPI))
        return edit_images(bilevel, path, ImageMask=BooleanObject(True), ColorSpace=None)
    if kind == "finer-than-ocr":  # a 400-dpi scan rendered at 300 dpi: pdfium's downscaling stays
        fine = scan_image.resize((scan_image.width * 2, scan_image.height * 2))
        fine.save(path, resolution=float(SCAN_DPI * 2))
        return path
    raise AssertionError(kind)


FALLBACKS = [
    "rotated",
    "annotation",
    "soft-mask",
    "two-images",
    "text-beside",
    "not-covering",
    "image-mask",
    "finer-than-ocr",
]


@pytest.mark.parametrize("kind", FALLBACKS)
def test_other_pages_are_pdfiums_own_render(kind, scan_image, scan_pdf, tmp_path):
    path = fallback_page(kind, scan_image, scan_pdf, tmp_path)
    rendered, fast = archive_render(path)
    assert not fast
    assert rendered.image.tobytes() == pdfium_render(path).tobytes()


def test_an_inverting_decode_array_is_drawn_as_pdfium_draws_it(scan_pdf, tmp_path):
    """pdfium's image decoder applies /Decode, so the fast path shows the page negative as pdfium does."""
    path = edit_images(scan_pdf, tmp_path / "negative.pdf", Decode=ArrayObject([NumberObject(1), NumberObject(0)]))
    rendered, _fast = archive_render(path)
    reference = pdfium_render(path)
    assert mean_difference(rendered.image, reference) < 1.0
    assert mean_difference(rendered.image, ImageOps.invert(pdfium_render(scan_pdf))) < 1.0


def test_the_check_refuses_an_image_that_does_not_look_like_pdfiums_render(scan_pdf):
    """The last guard: pdfium's small render against the image reduced alike, a negative refused."""
    pdf = open_pdf(scan_pdf)
    try:
        page = pdf[0]
        image, rect = pages._scan_image(page)
        native = image.get_bitmap(render=False).to_pil().convert("L")
        scale = SCAN_DPI / 72 / pages._GUARD_REDUCTION
        small = page.render(scale=scale).to_pil().convert("L")
        ours = pages._draw(native, rect, page, scale, Image.Resampling.BOX)
        assert pages._looks_alike(small, ours)
        assert not pages._looks_alike(small, ImageOps.invert(ours))
        blotted = ours.copy()
        blotted.paste(0, (0, 0, ours.width // 4, ours.height // 8))  # 1/32 of the page black
        assert not pages._looks_alike(small, blotted)
    finally:
        pdf.close()


def test_a_damaged_scan_still_renders(scan_pdf, tmp_path):
    """A JPEG cut short inside the PDF: whatever the fast path meets, the page comes back at its size."""
    data = bytearray(scan_pdf.read_bytes())
    start = data.index(b"\xff\xd8\xff")
    data[start + 3000 : start + 60000] = bytes(57000)
    path = tmp_path / "damaged.pdf"
    path.write_bytes(bytes(data))
    rendered, _fast = archive_render(path)
    assert rendered.image.size == pdfium_render(path).size
