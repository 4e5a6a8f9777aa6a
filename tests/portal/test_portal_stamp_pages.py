"""Stamped copies of PDFs whose pages are not plain: resources inherited from the page tree and
shared, content that leaves the graphics state behind, rotated pages with a CropBox, content split
over several streams or shared by two pages, an encrypted original, a stamp with a character the
cached stamp font lacks. On every page of the copy the stamp must show across the visible box
(rendered with pdfium), and the original's text must come out of the copy as it came out of the
original, the stamp's words after it."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_pdf
from pdf_views import page_texts, renders
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    RectangleObject,
    TextStringObject,
)

from archive_portal.services import stamp as stamp_module
from archive_portal.services.stamp import Stamp, StampError, stamp_pdf

STAMP = Stamp("tracuu042", "Phường Phố Hiến", datetime(2026, 12, 3, 9, 30, tzinfo=UTC))
LETTER = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nCông văn số {n} về việc bàn giao hồ sơ\n"
          + "\n".join(f"Dòng {i}: nội dung công văn về sắp xếp đơn vị hành chính cấp xã." for i in range(1, 30)))


def letter(path: Path, pages: int = 3) -> Path:
    make_pdf(path, [LETTER.format(n=n) for n in range(1, pages + 1)])
    return path


def stamped(path: Path, stamp: Stamp = STAMP) -> bytes:
    out = io.BytesIO()
    stamp_pdf(path, out, stamp, 50)
    return out.getvalue()


def stamp_pixels(image: Image.Image) -> int:
    """Pixels of the stamp's dark red (150, 20, 20) at alpha 0.55, over paper or over black text."""
    return sum(1 for r, g, b in image.get_flattened_data() if r > g + 40 and r > b + 40 and abs(g - b) < 25)


def assert_stamp_across(image: Image.Image, what: str) -> None:
    """Stamp pixels in the top, middle and bottom third of the page, and in its left and right halves."""
    width, height = image.size
    for band in range(3):
        cell = image.crop((0, band * height // 3, width, (band + 1) * height // 3))
        assert stamp_pixels(cell) > cell.width * cell.height * 0.002, f"{what}: no stamp in third {band} from the top"
    for half in range(2):
        cell = image.crop((half * width // 2, 0, (half + 1) * width // 2, height))
        assert stamp_pixels(cell) > cell.width * cell.height * 0.002, f"{what}: no stamp in half {half}"


def assert_text_kept(original: str, copy: str, what: str) -> None:
    """The original page's text comes out of the copy whole and first; then the stamp's words."""
    assert original.strip(), what  # the fixture has text to lose
    assert copy.startswith(original), f"{what}: {copy[:300]!r} does not start with {original[:300]!r}"
    assert "Tải bởi: tracuu042" in copy[len(original):], what


def assert_copy_keeps_pages(source: Path, data: bytes) -> None:
    before, after = page_texts(source.read_bytes()), page_texts(data)
    assert len(after) == len(before)
    for n, (original, copy) in enumerate(zip(before, after, strict=True)):
        assert_text_kept(original, copy, f"page {n + 1}")
    for n, image in enumerate(renders(data)):
        assert_stamp_across(image, f"page {n + 1}")


def with_content(page, data: bytes, writer: PdfWriter) -> None:
    stream = DecodedStreamObject()
    stream.set_data(data)
    page[NameObject("/Contents")] = writer._add_object(stream)


def test_a_plain_letter_keeps_its_text_and_carries_the_stamp_on_every_page(tmp_path):
    source = letter(tmp_path / "letter.pdf")
    data = stamped(source)
    assert_copy_keeps_pages(source, data)
    assert PdfReader(io.BytesIO(data)).metadata["/ArchiveStamp"] == STAMP.text
    assert data.count(b"%%EOF") == 1 and not data.startswith(source.read_bytes()[:1000])  # written whole


def test_resources_inherited_from_the_page_tree_and_shared_by_two_pages(tmp_path):
    plain = letter(tmp_path / "plain.pdf")
    writer = PdfWriter(clone_from=PdfReader(plain))
    pages_node = writer.root_object["/Pages"].get_object()
    first = writer.pages[0]
    shared = writer._add_object(first["/Resources"].get_object())
    pages_node[NameObject("/Resources")] = shared  # pages 1 and 2 inherit it; page 3 keeps its own
    for page in writer.pages[:2]:
        del page["/Resources"]
    writer.pages[1].mediabox = RectangleObject((0, 0, 420, 595))  # A5: a stamp of its own size
    source = tmp_path / "inherited.pdf"
    with source.open("wb") as out:
        writer.write(out)
    raw = PdfReader(source).trailer["/Root"]["/Pages"]
    assert "/Resources" in raw and all("/Resources" not in kid.get_object() for kid in raw["/Kids"][:2])
    assert_copy_keeps_pages(source, stamped(source))


@pytest.mark.parametrize(
    "leftover",
    [
        b"\nQ Q Q Q 0.05 0 0 0.05 0 0 cm 0 0 40 40 re W n\n",  # more Q than q, then a tiny CTM and a clip
        b"\nQ Q 0 0 1 1 re W n 1 0 0 1 5000 5000 cm\n",  # a clip of one point and the origin moved away
        b"\nBT /F1 12 Tf (a string never closed\n",  # would swallow whatever content came after it
    ],
    ids=["extra-Q-cm-clip", "extra-Q-clip-moved", "open-string"],
)
@pytest.mark.parametrize("layout", ["one-stream", "two-streams"])
def test_content_that_leaves_its_graphics_state_behind_does_not_move_or_hide_the_stamp(tmp_path, leftover, layout):
    plain = letter(tmp_path / "plain.pdf", pages=2)
    writer = PdfWriter(clone_from=PdfReader(plain))
    for page in writer.pages:
        data = page["/Contents"].get_object().get_data()
        if layout == "one-stream":
            with_content(page, data + leftover, writer)
        else:  # the second stream opens with the first's last text object still open
            cut = data.rindex(b"ET")
            first, second = DecodedStreamObject(), DecodedStreamObject()
            first.set_data(data[:cut])
            second.set_data(data[cut:] + leftover)
            page[NameObject("/Contents")] = ArrayObject([writer._add_object(first), writer._add_object(second)])
    source = tmp_path / "hostile.pdf"
    with source.open("wb") as out:
        writer.write(out)
    assert_copy_keeps_pages(source, stamped(source))


@pytest.mark.parametrize("rotate", [90, 180, 270, -90])
def test_rotated_pages_with_a_cropbox_are_stamped_upright_across_the_visible_box(tmp_path, rotate):
    plain = letter(tmp_path / "plain.pdf", pages=2)
    writer = PdfWriter(clone_from=PdfReader(plain))
    for page in writer.pages:
        page.cropbox = RectangleObject((40, 60, 520, 800))  # inside the A4 MediaBox, off its origin
        page[NameObject("/Rotate")] = NumberObject(rotate)
    source = tmp_path / "rotated.pdf"
    with source.open("wb") as out:
        writer.write(out)
    data = stamped(source)
    assert_copy_keeps_pages(source, data)
    shown = renders(data)[0].size
    assert shown == ((740, 480) if rotate % 180 else (480, 740))


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_the_stamp_on_a_rotated_page_reads_as_on_an_upright_page_of_the_size_shown(tmp_path, rotate):
    """A blank page turned by /Rotate and a blank upright page of the size it is shown at: the two
    stamped copies look the same, so the stamp is neither on its side nor upside down."""
    turned, upright = PdfWriter(), PdfWriter()
    page = turned.add_blank_page(600, 800)
    page.cropbox = RectangleObject((50, 70, 550, 760))
    page[NameObject("/Rotate")] = NumberObject(rotate)
    upright.add_blank_page(*((690, 500) if rotate % 180 else (500, 690)))
    images = []
    for name, writer in (("turned", turned), ("upright", upright)):
        path = tmp_path / f"{name}.pdf"
        with path.open("wb") as out:
            writer.write(out)
        images.append(renders(stamped(path))[0])
    assert images[0].size == images[1].size
    assert stamp_pixels(images[1]) > images[1].width * images[1].height * 0.01
    diff = ImageChops.difference(*images).convert("L")
    assert sum(1 for v in diff.get_flattened_data() if v > 40) < images[0].width * images[0].height * 0.002


def test_a_content_stream_shared_by_two_pages_is_drawn_on_both(tmp_path):
    plain = letter(tmp_path / "plain.pdf", pages=2)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.pages[1][NameObject("/Contents")] = writer.pages[0].raw_get("/Contents")
    source = tmp_path / "shared.pdf"
    with source.open("wb") as out:
        writer.write(out)
    before = page_texts(source.read_bytes())
    assert before[0] == before[1]
    assert_copy_keeps_pages(source, stamped(source))


def test_a_pdf_encrypted_with_an_empty_password_is_stamped(tmp_path):
    plain = letter(tmp_path / "plain.pdf", pages=2)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="", owner_password="chu-so-huu", algorithm="AES-128")
    source = tmp_path / "encrypted.pdf"
    with source.open("wb") as out:
        writer.write(out)
    data = stamped(source)
    assert not PdfReader(io.BytesIO(data)).is_encrypted
    assert_copy_keeps_pages(source, data)


def test_a_stamp_with_a_character_outside_the_cached_font_is_drawn_all_the_same(tmp_path):
    source = letter(tmp_path / "letter.pdf", pages=1)
    odd = Stamp("tracuu042", "Đơn vị Ωmega", STAMP.at)
    assert any(char not in stamp_module.STAMP_ALPHABET for char in odd.text)
    data = stamped(source, odd)
    [text] = page_texts(data)
    assert "Tải bởi: tracuu042 · Đơn vị Ωmega" in text
    assert_stamp_across(renders(data)[0], "page 1")


def test_the_cached_font_stamp_looks_like_the_one_reportlab_draws(tmp_path, monkeypatch):
    """The stamp written with the per-process font subset and the one reportlab draws with a subset
    of its own for each copy: same words, same places."""
    path = tmp_path / "blank.pdf"
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    with path.open("wb") as out:
        writer.write(out)
    cached_copy = stamped(path)
    monkeypatch.setattr(stamp_module._CopyStamps, "_form", lambda self, font, w, h: self._reportlab_form(w, h))
    drawn_copy = stamped(path)
    assert b"ARSTMP+" in cached_copy and b"ARSTMP+" not in drawn_copy  # each copy took the way it was meant to
    assert page_texts(cached_copy) == page_texts(drawn_copy)
    cached, drawn = renders(cached_copy, 2.0)[0], renders(drawn_copy, 2.0)[0]
    diff = ImageChops.difference(cached, drawn).convert("L")
    assert sum(1 for v in diff.get_flattened_data() if v > 40) < cached.width * cached.height * 0.001
    assert stamp_pixels(cached) > cached.width * cached.height * 0.01


@pytest.mark.parametrize("content_filter", ["/NoSuchDecode", "/JBIG2Decode", "/LZWDecode"])
def test_content_that_cannot_be_decoded_is_refused_not_handed_out(tmp_path, content_filter):
    """Content split over streams is joined, so decoded: a stream that cannot be is a file that cannot
    be stamped (StampError: refused), not a server error."""
    plain = letter(tmp_path / "plain.pdf", pages=2)
    writer = PdfWriter(clone_from=PdfReader(plain))
    for page in writer.pages:
        first, second = DecodedStreamObject(), DecodedStreamObject()
        first.set_data(b"q")
        second.set_data(b"\xff\xff Q")
        second[NameObject("/Filter")] = NameObject(content_filter)
        page[NameObject("/Contents")] = ArrayObject([writer._add_object(first), writer._add_object(second)])
    source = tmp_path / "broken.pdf"
    with source.open("wb") as out:
        writer.write(out)
    with pytest.raises(StampError):
        stamped(source)


# -- what a page carries besides what it shows ------------------------------------------------------
def _appearance(writer: PdfWriter, width: float, height: float, content: bytes, resources=None):
    form = DecodedStreamObject()
    form.set_data(content)
    form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): ArrayObject(FloatObject(v) for v in (0, 0, width, height)),
                 NameObject("/Resources"): resources or DictionaryObject()})
    return writer._add_object(form)


def _annotate(page, writer: PdfWriter, annotation: dict) -> None:
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else ArrayObject()
    annots.append(writer._add_object(DictionaryObject({NameObject(k): v for k, v in annotation.items()})))
    page[NameObject("/Annots")] = annots


def test_thumbnails_attachments_and_scripts_do_not_travel_and_links_do(tmp_path):
    """A thumbnail is an unstamped picture of the page, an attached file a file: neither is in the copy,
    nor a script or a page action; a plain link still works."""
    writer = PdfWriter(clone_from=PdfReader(letter(tmp_path / "plain.pdf", pages=2)))
    secret = b"UNSTAMPED-ATTACHMENT-" * 50
    thumb = DecodedStreamObject()
    thumb.set_data(b"THUMBNAIL-PIXELS" * 20)
    embedded = DecodedStreamObject()
    embedded.set_data(secret)
    embedded[NameObject("/Type")] = NameObject("/EmbeddedFile")
    page = writer.pages[0]
    page[NameObject("/Thumb")] = writer._add_object(thumb)
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('x')")})})
    rect = ArrayObject(FloatObject(v) for v in (50, 50, 70, 70))
    _annotate(page, writer, {"/Type": NameObject("/Annot"), "/Subtype": NameObject("/FileAttachment"),
                             "/Rect": rect, "/F": NumberObject(2),  # hidden: nothing to render, nothing to carry
                             "/FS": DictionaryObject({NameObject("/Type"): NameObject("/Filespec"),
                                                      NameObject("/F"): TextStringObject("scan.pdf"),
                                                      NameObject("/EF"): DictionaryObject(
                                                          {NameObject("/F"): writer._add_object(embedded)})})})
    _annotate(page, writer, {"/Type": NameObject("/Annot"), "/Subtype": NameObject("/Link"), "/Rect": rect,
                             "/A": DictionaryObject({NameObject("/S"): NameObject("/URI"),
                                                     NameObject("/URI"): TextStringObject("https://hungyen.gov.vn/")})})
    _annotate(page, writer, {"/Type": NameObject("/Annot"), "/Subtype": NameObject("/Link"), "/Rect": rect,
                             "/A": DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                                     NameObject("/JS"): TextStringObject("app.launchURL('x')")})})
    source = tmp_path / "extras.pdf"
    with source.open("wb") as out:
        writer.write(out)
    data = stamped(source)
    copy = PdfReader(io.BytesIO(data))
    for page in copy.pages:
        assert not {"/Thumb", "/AA", "/PieceInfo"} & set(page.keys())
    annots = [a.get_object() for a in copy.pages[0].get("/Annots", [])]
    assert [(a["/Subtype"], a["/A"]["/S"]) for a in annots] == [("/Link", "/URI")]
    assert b"JavaScript" not in data and b"THUMBNAIL" not in data and b"UNSTAMPED-ATTACHMENT" not in data
    streams = [copy.get_object(n) for n in range(1, int(copy.trailer["/Size"]))]
    assert not any(b"UNSTAMPED-ATTACHMENT" in s.get_data() for s in streams if hasattr(s, "get_data"))  # decoded too
    assert_copy_keeps_pages(source, data)


def test_an_annotation_shown_over_the_page_is_flattened_under_the_stamp(tmp_path):
    """A visible annotation is drawn above any content, the stamp included: a white box over the
    whole page (a hostile "stamp" annotation) would hide the stamp. The page is rendered with the
    annotation in its pixels, the stamp over them, and the annotation itself does not travel."""
    writer = PdfWriter(clone_from=PdfReader(letter(tmp_path / "plain.pdf", pages=2)))
    page = writer.pages[1]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    cover = _appearance(writer, width, height, f"1 1 1 rg 0 0 {width} {height} re f 0 0 1 rg 100 100 200 200 re f".encode())
    _annotate(page, writer, {"/Type": NameObject("/Annot"), "/Subtype": NameObject("/Stamp"),
                             "/Rect": ArrayObject(FloatObject(v) for v in (0, 0, width, height)),
                             "/AP": DictionaryObject({NameObject("/N"): cover})})
    source = tmp_path / "covered.pdf"
    with source.open("wb") as out:
        writer.write(out)
    original = renders(source.read_bytes())[1]
    assert stamp_pixels(original) == 0 and original.getpixel((int(150 * 1.0), int(height - 150))) == (0, 0, 255)
    data = stamped(source)
    copy = PdfReader(io.BytesIO(data))
    assert "/Annots" not in copy.pages[1]
    shown = renders(data)
    assert_stamp_across(shown[1], "covered page")
    blue = sum(1 for r, g, b in shown[1].get_flattened_data() if b > 150 and r < 120 and g < 120)
    assert blue > 0.3 * 200 * 200  # what the annotation showed is still there, in the pixels
    assert_text_kept(page_texts(source.read_bytes())[0], page_texts(data)[0], "page 1")  # the other page as before


def test_a_visible_signature_is_drawn_into_the_page_under_the_stamp_and_its_text_stays(tmp_path):
    """A visible signature (a widget with an appearance, here scaled by its own /Matrix) on a letter's
    page: the copy shows it where the original did, under the stamp, as page content (no annotation
    left to cover the stamp), and the page's text stays text."""
    writer = PdfWriter(clone_from=PdfReader(letter(tmp_path / "plain.pdf", pages=1)))
    page = writer.pages[0]
    height = float(page.mediabox.height)
    look = _appearance(writer, 100, 40, b"0 0 1 rg 0 0 100 40 re f")
    look.get_object()[NameObject("/Matrix")] = ArrayObject(FloatObject(v) for v in (2, 0, 0, 2, 0, 0))
    _annotate(page, writer, {"/Type": NameObject("/Annot"), "/Subtype": NameObject("/Widget"),
                             "/FT": NameObject("/Sig"), "/F": NumberObject(4),
                             "/Rect": ArrayObject(FloatObject(v) for v in (300, 100, 450, 160)),
                             "/AP": DictionaryObject({NameObject("/N"): look})})
    source = tmp_path / "signed.pdf"
    with source.open("wb") as out:
        writer.write(out)
    data = stamped(source)
    assert "/Annots" not in PdfReader(io.BytesIO(data)).pages[0]
    assert_copy_keeps_pages(source, data)  # the text stays text; the stamp across the page
    shown = renders(data)[0]

    def blue(box: tuple[float, float, float, float]) -> float:
        left, bottom, right, top = box
        cell = shown.crop((int(left), int(height - top), int(right), int(height - bottom)))
        return sum(1 for r, g, b in cell.get_flattened_data() if b > 150 and r < 140 and g < 120) / (cell.width * cell.height)

    assert blue((304, 104, 446, 156)) > 0.5  # where the signature's box is, scaled onto its /Rect
    assert blue((300, 165, 450, 200)) == 0 and blue((455, 100, 500, 160)) == 0  # and nowhere else


def test_a_letter_signed_with_a_visible_signature_by_pyhanko_keeps_its_text_and_the_signature_shows(tmp_path):
    """A real signing tool's visible signature (pyHanko's stamp in a signature field of page 1): the
    copy's page keeps its text, shows the signature's words where they were, and carries the stamp."""
    from specimens.signing import TestCA, render_pdf, sign_pdf

    ca = TestCA()
    signer = ca.issue("Nguyễn Văn Ký")
    source = tmp_path / "signed.pdf"
    source.write_bytes(sign_pdf(render_pdf(), ca, signer, box=(330, 60, 560, 140)))
    original = page_texts(source.read_bytes())[0]
    data = stamped(source)
    assert "/Annots" not in PdfReader(io.BytesIO(data)).pages[0]
    copy = page_texts(data)[0]
    assert copy.startswith(original) and "Digitally signed by" in copy[len(original):]  # its words, as text
    assert "Tải bởi: tracuu042" in copy
    assert_stamp_across(renders(data)[0], "signed page")
