"""Extraction on real files rendered by specimens; OCR tests run the real Tesseract."""

from __future__ import annotations

import struct
import unicodedata
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from ingest.extract import ExtractionRefused, ExtractLimits, extract, sniff
from ingest.metadata import fold
from specimens import make_specimens, render_pdf, render_scan

# Scans are rendered and OCR'd at a modest resolution: the CI machine has 2 cores.
SCAN_DPI = 150
OCR_LIMITS = ExtractLimits(dpi=SCAN_DPI)


@pytest.fixture(scope="module")
def specs():
    return make_specimens(6, seed=11)


def joined(text: str) -> str:
    return " ".join(text.split())


def distinctive_words(spec, n: int = 3) -> list[str]:
    """Long words of the body, folded (an OCR tone error must not fail the test)."""
    words = sorted({w.strip(".,;:()") for p in spec.body_paragraphs for w in p.split()}, key=len, reverse=True)
    return [fold(w) for w in words[:n]]


def assert_recovers_body(text: str, spec) -> None:
    folded = fold(text)
    found = [w for w in distinctive_words(spec, 5) if w in folded]
    assert len(found) >= 3, (found, distinctive_words(spec, 5), text[:500])


def mixed_pdf(spec, tmp_path: Path) -> Path:
    """Page 1 born-digital, page 2 a scan of the same document (no text layer)."""
    text_pdf = render_pdf(spec, tmp_path / "text.pdf")
    scan_pdf = render_scan(spec, tmp_path / "scan.pdf", "pdf", dpi=SCAN_DPI)
    out = pdfium.PdfDocument.new()
    for source in (text_pdf, scan_pdf):
        src = pdfium.PdfDocument(source)
        out.import_pages(src, [0])
        src.close()
    path = tmp_path / "mixed.pdf"
    out.save(path)
    out.close()
    return path


# ------------------------------------------------------------------ born-digital

def test_born_digital_pdf_gives_the_exact_vietnamese_text(specs, tmp_path):
    spec = specs[0]
    result = extract(render_pdf(spec, tmp_path / "a.pdf"))
    assert result.media_type == "application/pdf"
    assert [p.method for p in result.pages] == ["text"]
    text = result.pages[0].text
    assert unicodedata.is_normalized("NFC", text)
    for paragraph in spec.body_paragraphs:
        assert joined(paragraph) in joined(text)
    for exact in (spec.number, spec.signer, spec.date_line, spec.issuer.upper()):
        assert exact in text


def test_multi_page_born_digital_pdf_keeps_page_numbers(specs, tmp_path):
    result = extract(render_pdf(specs[1], tmp_path / "long.pdf", pages=3))
    assert [p.number for p in result.pages] == [1, 2, 3]
    assert all(p.method == "text" for p in result.pages)
    assert specs[1].signer in result.pages[-1].text


def test_content_not_the_name_decides(specs, tmp_path):
    disguised = tmp_path / "anh.jpg"
    disguised.write_bytes(render_pdf(specs[0], tmp_path / "a.pdf").read_bytes())
    assert sniff(disguised) == "application/pdf"
    assert extract(disguised).pages[0].method == "text"
    png = render_scan(specs[0], tmp_path / "s.png", "png", dpi=40, noise=False)
    renamed = tmp_path / "vanban.pdf"
    renamed.write_bytes(png.read_bytes())
    assert sniff(renamed) == "image/png"
    jpeg = render_scan(specs[0], tmp_path / "s.jpg", "jpeg", dpi=40)
    tiff = render_scan(specs[0], tmp_path / "s.tif", "tiff", dpi=40)
    assert (sniff(jpeg), sniff(tiff)) == ("image/jpeg", "image/tiff")


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Windows-1258 keeps ê, ơ, ư... precomposed and writes tone marks as combining characters."""
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
            out.append((base + "".join(c for c in nfd if c in _TONES)).encode("cp1258"))
    return b"".join(out)


def test_plain_text_in_utf8_and_cp1258(tmp_path):
    text = "Kế hoạch phòng, chống thiên tai năm 2024 của Ủy ban nhân dân xã Tân Hưng"
    utf8 = tmp_path / "a.txt"
    utf8.write_bytes(text.encode("utf-8"))
    legacy = tmp_path / "b.dat"
    legacy.write_bytes(to_cp1258(text))
    for path in (utf8, legacy):
        result = extract(path)
        assert result.media_type == "text/plain"
        assert result.pages[0].text == text and result.pages[0].method == "text"
    assert extract(legacy).warnings  # the report says it was not UTF-8


def test_extract_runs_in_a_process_pool(specs, tmp_path):
    good = render_pdf(specs[2], tmp_path / "a.pdf")
    empty = tmp_path / "empty.pdf"
    empty.touch()
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(extract, good, ExtractLimits()).result()
        assert specs[2].number in result.pages[0].text
        with pytest.raises(ExtractionRefused) as refused:
            pool.submit(extract, empty).result()
    assert "0 byte" in refused.value.reason


# ------------------------------------------------------------------------ refusals

def test_password_protected_pdf_is_refused(specs, tmp_path):
    path = render_pdf(specs[0], tmp_path / "locked.pdf", password="matkhau")
    with pytest.raises(ExtractionRefused) as refused:
        extract(path)
    assert "mật khẩu" in refused.value.reason and "password" in refused.value.reason


def test_truncated_and_corrupt_pdfs_are_refused(specs, tmp_path):
    data = render_pdf(specs[0], tmp_path / "a.pdf").read_bytes()
    truncated = tmp_path / "cut.pdf"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    for path in (truncated, garbage):
        with pytest.raises(ExtractionRefused) as refused:
            extract(path)
        assert refused.value.reason.startswith("PDF hỏng")


def test_empty_oversized_unknown_and_too_long_files_are_refused(specs, tmp_path):
    empty = tmp_path / "rong.pdf"
    empty.touch()
    with pytest.raises(ExtractionRefused, match="tệp rỗng"):
        extract(empty)
    pdf = render_pdf(specs[0], tmp_path / "a.pdf", pages=2)
    with pytest.raises(ExtractionRefused, match="quá lớn"):
        extract(pdf, ExtractLimits(max_file_bytes=1000))
    with pytest.raises(ExtractionRefused, match="quá nhiều trang"):
        extract(pdf, ExtractLimits(max_pages=1))
    blob = tmp_path / "x.bin"
    blob.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ExtractionRefused, match="application/octet-stream"):
        extract(blob)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG announcing width×height pixels whose pixel data is a few bytes of nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"\x78\x9c\x00") + _chunk(b"IEND", b"")


def test_images_over_the_pixel_limit_are_refused_before_decoding(tmp_path):
    # No pixel data exists, so a "corrupt image" reason would mean we tried to decode.
    for width, height in ((11_000, 11_000), (40_000, 40_000)):  # over our limit; over Pillow's too
        bomb = tmp_path / f"bomb{width}.png"
        bomb.write_bytes(_png_claiming(width, height))
        with pytest.raises(ExtractionRefused) as refused:
            extract(bomb)
        assert "decompression bomb" in refused.value.reason
    real = tmp_path / "real.png"
    Image.new("L", (400, 300), 255).save(real)
    with pytest.raises(ExtractionRefused, match="decompression bomb"):
        extract(real, ExtractLimits(max_image_pixels=100_000))


def test_a_truncated_image_is_refused(specs, tmp_path):
    png = render_scan(specs[0], tmp_path / "s.png", "png", dpi=60).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(png[: len(png) // 2])
    with pytest.raises(ExtractionRefused, match="ảnh hỏng"):
        extract(cut)


# --------------------------------------------------------------------------- OCR

@pytest.mark.ocr
def test_scanned_pdf_is_ocrd(specs, tmp_path):
    spec = specs[3]
    result = extract(render_scan(spec, tmp_path / "scan.pdf", "pdf", dpi=SCAN_DPI), OCR_LIMITS)
    page = result.pages[0]
    assert page.method == "ocr" and page.ocr_confidence and page.ocr_confidence > 0
    assert_recovers_body(page.text, spec)
    assert unicodedata.is_normalized("NFC", page.text)


@pytest.mark.ocr
def test_png_is_ocrd(specs, tmp_path):
    spec = specs[4]
    result = extract(render_scan(spec, tmp_path / "scan.png", "png", dpi=SCAN_DPI), OCR_LIMITS)
    assert result.media_type == "image/png"
    assert result.pages[0].method == "ocr" and result.pages[0].ocr_confidence > 0
    assert_recovers_body(result.pages[0].text, spec)


@pytest.mark.ocr
def test_multi_page_tiff_is_ocrd_frame_by_frame(specs, tmp_path):
    spec = specs[5]
    result = extract(render_scan(spec, tmp_path / "scan.tif", "tiff", dpi=SCAN_DPI, pages=2), OCR_LIMITS)
    assert result.media_type == "image/tiff"
    assert [p.number for p in result.pages] == [1, 2]
    assert all(p.method == "ocr" and p.ocr_confidence > 0 for p in result.pages)
    assert "cong hoa xa hoi chu nghia" in fold(result.pages[0].text)
    assert "noi nhan" in fold(result.pages[1].text)  # the signature block is on page 2


@pytest.mark.ocr
def test_mixed_pdf_goes_page_by_page(specs, tmp_path):
    spec = specs[1]
    result = extract(mixed_pdf(spec, tmp_path), OCR_LIMITS)
    assert [p.method for p in result.pages] == ["text", "ocr"]
    assert result.pages[0].ocr_confidence is None and result.pages[1].ocr_confidence > 0
    assert_recovers_body(result.pages[1].text, spec)
