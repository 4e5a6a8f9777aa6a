"""Stamps are burned in (issue 10, finding 2): across the page content, inside the visible box,
in the pixels of scans and page images. Each test crops the stamped copy region by region
against the unstamped render, then reads the stamp back with the real Tesseract."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pypdfium2 as pdfium
import pytesseract
import pytest
from conftest import FONT, build_world, make_pdf, store
from pdf_views import renders
from PIL import Image, ImageChops, ImageDraw, ImageFont
from portal_helpers import login
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject
from sqlalchemy import select

from archive_core.db.models import Document, DocumentFile, Package, Page
from archive_portal import create_app

VN = timezone(timedelta(hours=7))
TIME_RE = re.compile(r"(\d{2})/(\d{2})/(\d{4}) ?(\d{2}):(\d{2})")
BODY = [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nBiên bản họp giao ban tháng 6 năm 2025\n"
         + "\n".join(f"Dòng {n}: nội dung cuộc họp về công tác chuyển giao hồ sơ." for n in range(1, 40)))]


def scan_jpeg(path: Path) -> bytes:
    """A scanned page: black text on paper, as a 150 dpi JPEG."""
    image = Image.new("RGB", (1240, 1754), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 28)
    for n in range(40):
        draw.text((90, 90 + n * 40), f"Dòng {n + 1}: biên bản kiểm kê tài liệu lưu trữ phường An Tảo", fill="black", font=font)
    image.save(path, format="JPEG", quality=90, dpi=(150, 150))
    return path.read_bytes()


def scanned_pdf(path: Path, jpeg: Path) -> None:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    a85, rl_config.useA85 = rl_config.useA85, 0  # the JPEG's bytes as they are, as scanners write them
    try:
        c = canvas.Canvas(str(path), pagesize=A4)
        for _ in range(2):
            c.drawImage(str(jpeg), 0, 0, width=A4[0], height=A4[1])
            c.showPage()
        c.save()
    finally:
        rl_config.useA85 = a85


def cropped_pdf(path: Path) -> None:
    """A text PDF whose CropBox leaves out the bottom-left of the MediaBox."""
    plain = path.with_suffix(".plain.pdf")
    make_pdf(plain, BODY)
    writer = PdfWriter(clone_from=PdfReader(str(plain)))
    for page in writer.pages:
        page.cropbox = RectangleObject((180, 260, 595, 842))
    with path.open("wb") as out:
        writer.write(out)


def add_document(world, key: str, unit_code: str, path: Path, media: str, pages: int) -> None:
    with world.archive.db.transaction() as session:
        package = session.scalars(select(Package)).first()
        doc = Document(package_id=package.id, unit_code=unit_code, ma_van_ban=f"VB-{key}", direction="den",
                       subject=f"Biên bản {key}", page_count=pages, text_ready=True)
        session.add(doc)
        session.flush()
        sha = store(world.archive, session, path, media)
        dfile = DocumentFile(document_id=doc.id, position=0, path_in_package=f"files/{path.name}", filename=path.name,
                             blob_sha256=sha, media_type=media, status="extracted", page_count=pages)
        session.add(dfile)
        session.flush()
        for n in range(1, pages + 1):
            session.add(Page(file_id=dfile.id, number=n, text="Biên bản", method="ocr", ocr_confidence=90.0))
        world.docs[key], world.files[key] = doc.id, dfile.id


@pytest.fixture(scope="module")
def burned(tmp_path_factory):
    home = tmp_path_factory.mktemp("burned") / "home"
    world = build_world(home)
    files = home / "extra"
    files.mkdir()
    jpeg = files / "scan.jpg"
    world.jpeg = scan_jpeg(jpeg)
    scanned_pdf(files / "scan.pdf", jpeg)
    cropped_pdf(files / "crop.pdf")
    add_document(world, "scan", "11956", files / "scan.pdf", "application/pdf", 2)
    add_document(world, "crop", "323", files / "crop.pdf", "application/pdf", 1)
    app = create_app(archive=world.archive)
    lookup, admin = app.test_client(), app.test_client()
    assert login(lookup, "phohien").status_code == 302
    assert login(admin, "admin").status_code == 302
    world.lookup, world.admin = lookup, admin
    yield world
    world.archive.close()


def url(world, key: str, what: str) -> str:
    return f"/van-ban/{world.docs[key]}/tep/{world.files[key]}/{what}"


def stamp_only(stamped: Image.Image, original: Image.Image) -> Image.Image:
    """Black where the stamped copy differs from the unstamped render, white elsewhere."""
    assert stamped.size == original.size
    diff = ImageChops.difference(stamped, original).convert("L")
    return diff.point(lambda v: 0 if v > 40 else 255)


def assert_stamp_in_every_region(stamp: Image.Image, grid: int = 3) -> None:
    width, height = stamp.size
    for row in range(grid):
        for col in range(grid):
            cell = stamp.crop((col * width // grid, row * height // grid,
                               (col + 1) * width // grid, (row + 1) * height // grid))
            dark = sum(1 for v in cell.get_flattened_data() if v == 0)
            assert dark > cell.width * cell.height * 0.002, f"no stamp in region {row},{col}"


def reddish(image: Image.Image) -> int:
    return sum(1 for r, g, b in image.convert("RGB").get_flattened_data() if r > g + 30 and r > b + 30)


def read_stamp(stamp: Image.Image) -> str:
    if stamp.width < 1500:
        stamp = stamp.resize((stamp.width * 2, stamp.height * 2))
    return pytesseract.image_to_string(stamp, lang="vie", config="--psm 6")


def assert_reads_back(text: str, username: str) -> None:
    assert username in text, text
    found = []
    for day, month, year, hour, minute in TIME_RE.findall(text):
        try:
            found.append(datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=VN))
        except ValueError:  # a misread row; the others carry the same time
            continue
    assert found, text
    now = datetime.now(VN)
    assert any(abs(now - at) < timedelta(minutes=3) for at in found), (found, now)


def test_a_text_pdf_is_stamped_across_the_page(burned):
    stamped = renders(burned.lookup.get(url(burned, "district", "tai-ve")).get_data(), 3.0)
    original = renders(burned.admin.get(url(burned, "district", "tai-ve")).get_data(), 3.0)
    stamp = stamp_only(stamped[0], original[0])
    assert_stamp_in_every_region(stamp)
    assert_reads_back(read_stamp(stamp), "phohien")


def test_the_stamp_is_inside_a_cropbox_that_leaves_out_the_bottom_left(burned):
    data = burned.lookup.get(url(burned, "crop", "tai-ve")).get_data()
    stamped = renders(data, 3.0)
    original = renders(burned.admin.get(url(burned, "crop", "tai-ve")).get_data(), 3.0)
    stamp = stamp_only(stamped[0], original[0])
    assert_stamp_in_every_region(stamp)
    assert_reads_back(read_stamp(stamp), "phohien")


def test_scanned_pages_are_reencoded_with_the_stamp_in_their_pixels(burned):
    original_bytes = burned.admin.get(url(burned, "scan", "tai-ve")).get_data()
    assert burned.jpeg in original_bytes  # the stored PDF carries the scan byte for byte
    data = burned.lookup.get(url(burned, "scan", "tai-ve")).get_data()
    assert burned.jpeg not in data
    assert burned.jpeg[2000:6000] not in data  # not even a stretch of it
    for page in PdfReader(io.BytesIO(data)).pages:
        for image in page.images:  # every picture of the copy carries the stamp itself
            assert reddish(image.image) > image.image.width * image.image.height * 0.002
    stamped, original = renders(data, 2.0), renders(original_bytes, 2.0)
    assert len(stamped) == 2
    for mine, theirs in zip(stamped, original, strict=True):
        stamp = stamp_only(mine, theirs)
        assert_stamp_in_every_region(stamp)
    assert_reads_back(read_stamp(stamp_only(stamped[1], original[1])), "phohien")
    text = pdfium.PdfDocument(data)[0].get_textpage().get_text_bounded()
    assert "Tải bởi: phohien" in text  # the words of the stamp ride along as text


def test_an_image_file_becomes_pages_with_the_stamp_in_their_pixels(burned):
    data = burned.lookup.get(url(burned, "an_tao", "tai-ve")).get_data()
    for page in PdfReader(io.BytesIO(data)).pages:
        [picture] = page.images
        assert reddish(picture.image) > picture.image.width * picture.image.height * 0.002


def test_page_images_have_the_stamp_burned_in_not_in_a_band(burned):
    for key in ("district", "scan", "an_tao"):
        lookup = Image.open(io.BytesIO(burned.lookup.get(url(burned, key, "trang/1.png") + "?w=2000").get_data()))
        admin = Image.open(io.BytesIO(burned.admin.get(url(burned, key, "trang/1.png") + "?w=2000").get_data()))
        assert lookup.size == admin.size, key  # nothing added around the page: the stamp is on it
        stamp = stamp_only(lookup.convert("RGB"), admin.convert("RGB"))
        assert_stamp_in_every_region(stamp)
        if key == "district":
            assert_reads_back(read_stamp(stamp), "phohien")
