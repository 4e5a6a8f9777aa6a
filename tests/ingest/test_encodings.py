"""Legacy Vietnamese font encodings: real TCVN3 (.VnTime) and VNI byte strings, in manifests,
PDF text layers and DOC files, are detected and converted to Unicode; Unicode and English text is left alone."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook
from reportlab.pdfgen import canvas

from ingest.encodings import (
    TCVN3,
    VNI,
    decode_tcvn3,
    decode_vni,
    detect_legacy,
    encode_tcvn3,
    encode_vni,
    fix_legacy,
)
from ingest.extract import extract
from ingest.manifests import read_manifest
from specimens import make_specimens

from .office_files import soffice_convert, write_docx

LETTER = [
    "Người dân xã Tân Hưng được hướng dẫn chuyển đổi cơ cấu cây trồng, phát triển nhãn lồng Hưng Yên.",
    "Trụ sở, tài sản công sau sắp xếp được kiểm kê, lập danh mục và đề xuất phương án sử dụng phù hợp.",
    "Ủy ban nhân dân tỉnh giao Sở Nội vụ hướng dẫn lưu trữ hồ sơ của đơn vị hành chính cũ.",
]


def specimen_texts(n: int = 12) -> list[str]:
    return ["\n".join([s.issuer, s.subject, s.signer, *s.body_paragraphs]) for s in make_specimens(n, seed=5)]


# ------------------------------------------------------------------------ the tables


def test_tcvn3_table_agrees_with_glibc_tcvn5712():
    """glibc's TCVN5712-1 converter is an independent implementation of the same standard."""
    raw = bytes(range(0xA1, 0x100))
    reference = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=raw, capture_output=True,
                               check=True).stdout.decode("utf-8")
    ours = "".join(decode_tcvn3(chr(b)) for b in raw)
    assert len(reference) == len(ours) == 95
    assert [unicodedata.normalize("NFC", c) for c in reference] == list(ours)


def test_independently_published_pairs():
    # TCVN3 examples published with a TCVN3 converter (place names of Lào Cai province).
    assert decode_tcvn3("B¶o Th¾ng") == "Bảo Thắng"
    assert decode_tcvn3("B¸t X¸t") == "Bát Xát"
    # VNI: the example of the vietnamese-conversion package, and entries of xvnkb's VNI table.
    assert decode_vni("Xin chaøo caùc baïn") == "Xin chào các bạn"
    assert [decode_vni(s) for s in ("AÙ", "AØ", "AÛ", "AÕ", "AÏ", "ÔÙ", "Ñ")] == ["Á", "À", "Ả", "Ã", "Ạ", "Ớ", "Đ"]
    assert encode_vni("Xin chào các bạn") == "Xin chaøo caùc baïn"


def test_every_vietnamese_letter_survives_a_round_trip():
    letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    assert decode_vni(encode_vni(letters)) == letters
    assert decode_vni(encode_vni(letters.upper())) == letters.upper()
    assert decode_tcvn3(encode_tcvn3(letters)) == letters
    # .VnTimeH capitals are the lower-case codes: they come back in lower case.
    assert decode_tcvn3(encode_tcvn3("ỦY BAN NHÂN DÂN")) == "ủY BAN NHÂN DÂN"


# ----------------------------------------------------------------------- detection


@pytest.mark.parametrize("text", specimen_texts())
def test_specimen_letters_in_tcvn3_and_vni_are_recognised_and_restored(text):
    assert detect_legacy(text) is None  # Unicode Vietnamese is left alone
    converted, found = fix_legacy(encode_tcvn3(text))
    assert found == TCVN3 and converted.lower() == text.lower()
    converted, found = fix_legacy(encode_vni(text))
    assert found == VNI and converted == text


@pytest.mark.parametrize("text", [
    "Microsoft® Word © 2024 — naïve café, Noël, Muñoz, résumé, Ångström, smörgåsbord.",
    "The archive keeps the originals byte for byte and addresses them by their SHA-256.",
    "Hoà Bình, hoá đơn, thuỷ lợi, Quý, khuya, người, tuổi, khuỷu tay, giặt giũ, nghiêng ngả.",
    "Số: 74/KH-UBND · Hưng Yên, ngày 10 tháng 4 năm 2025 · Tỷ lệ 12,5% · Giá 1.500 €",
])
def test_ordinary_text_is_never_converted(text):
    assert fix_legacy(text) == (text, None)


# ------------------------------------------------------------------------ manifests

HEADER = ["Mã văn bản", "Số ký hiệu", "Trích yếu", "Người ký"]
ROW = ["VB-7", "15/BC-UBND", "Báo cáo kết quả sắp xếp đơn vị hành chính cấp xã", "Nguyễn Đức Thắng"]


def _check_row(manifest, encoding: str):
    (row,) = manifest.rows
    assert row.values["trich_yeu"].lower() == ROW[2].lower()
    assert row.values["nguoi_ky"].lower() == ROW[3].lower()
    assert any(f"Đã chuyển mã {encoding} → Unicode" in w for w in manifest.warnings)


@pytest.mark.parametrize("encoding,encode", [(TCVN3, encode_tcvn3), (VNI, encode_vni)])
def test_csv_manifest_in_a_legacy_font_is_converted(tmp_path, encoding, encode):
    path = tmp_path / "documents.csv"
    text = ",".join(HEADER) + "\n" + ",".join(ROW) + "\n"
    path.write_bytes(encode(text).encode("latin-1"))  # the bytes an ABC/VNI-era tool writes
    _check_row(read_manifest(path), encoding)


def test_xlsx_manifest_typed_in_vntime_is_converted(tmp_path):
    workbook = Workbook()
    workbook.active.append(HEADER)  # headers in Unicode, cells typed with .VnTime
    workbook.active.append([encode_tcvn3(v) for v in ROW])
    path = tmp_path / "documents.xlsx"
    workbook.save(path)
    _check_row(read_manifest(path), TCVN3)


# ----------------------------------------------------------------------- PDF and DOC


def test_pdf_typeset_with_a_vntime_font_is_read_as_unicode(tmp_path):
    """The text layer of such a PDF holds TCVN3 codes drawn by a Latin-1 font."""
    path = tmp_path / "old.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 10)
    for i, line in enumerate(LETTER):
        pdf.drawString(40, 780 - 16 * i, encode_tcvn3(line))
    pdf.save()
    result = extract(path)
    text = " ".join(result.text.split())
    for line in LETTER:
        assert line.lower() in text.lower()
    assert "Đã chuyển mã TCVN3 → Unicode" in result.warnings


def test_doc_typed_with_vntime_is_read_as_unicode(tmp_path):
    """Including "ư" (TCVN3 byte 0xAD), which Word stores as an optional hyphen."""
    source = write_docx(tmp_path / "old.docx", [encode_tcvn3(line) for line in LETTER * 3], font=".VnTime")
    (doc,) = soffice_convert([source], "doc", tmp_path / "doc")
    result = extract(doc)
    assert result.media_type == "application/msword"
    text = " ".join(result.text.split()).lower()
    for line in LETTER:
        assert line.lower() in text
    assert "Đã chuyển mã TCVN3 → Unicode" in result.warnings


def test_doc_typed_with_vni_times_is_read_as_unicode(tmp_path):
    source = write_docx(tmp_path / "old.docx", [encode_vni(line) for line in LETTER * 3], font="VNI-Times")
    (doc,) = soffice_convert([source], "doc", tmp_path / "doc")
    result = extract(doc)
    text = " ".join(result.text.split())
    for line in LETTER:
        assert line in text
    assert "Đã chuyển mã VNI → Unicode" in result.warnings


def test_plain_text_file_in_tcvn3_bytes(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes(encode_tcvn3("\n".join(LETTER)).encode("latin-1"))
    result = extract(path)
    assert result.text.lower() == "\n".join(LETTER).lower()
    assert "Đã chuyển mã TCVN3 → Unicode" in result.warnings
