"""Office, RTF and HTML files: real files written by their libraries or converted by LibreOffice,
recognised by content (never by name) and read to text; broken ones refused with a reason."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from ingest.extract import ExtractionRefused, extract, sniff
from ingest.extract.sniff import DOC, DOCX, ODT, XLS, XLSX

from .office_files import soffice_convert, write_docx, write_odt, write_xlsx

BODY = [
    "Ủy ban nhân dân xã Tân Hưng báo cáo kết quả rà soát hồ sơ lưu trữ.",
    "Công chức Văn phòng - Thống kê bàn giao đầy đủ tài liệu cho đơn vị hành chính mới.",
]
# Real letters run longer than two lines (antiword refuses a text stream under ~100 words).
FILLER = [
    "Thực hiện Nghị quyết của Ủy ban Thường vụ Quốc hội về việc sắp xếp đơn vị hành chính cấp huyện, cấp xã.",
    "Các thôn, tổ dân phố tổ chức lấy ý kiến cử tri về phương án sắp xếp, bảo đảm công khai, dân chủ.",
    "Trụ sở, tài sản công sau sắp xếp được kiểm kê, lập danh mục và đề xuất phương án sử dụng phù hợp.",
    "Kinh phí thực hiện được lồng ghép từ ngân sách tỉnh, ngân sách huyện và nguồn xã hội hóa.",
]
TABLE = [["Số ký hiệu", "Trích yếu"], ["74/KH-UBND", "Kế hoạch kiểm kê trụ sở"]]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("office")
    docx_path = write_docx(root / "letter.docx", BODY + FILLER, TABLE)
    xlsx_path = write_xlsx(root / "book.xlsx", {
        "Văn bản đến": [["Số", "Trích yếu"], ["12/UBND", "Tiếp nhận hồ sơ đất đai"]],
        "Văn bản đi": [["Số", "Trích yếu"], ["13/UBND", "Phân công nhiệm vụ phòng chống lụt bão"]],
    })
    (doc_path,) = soffice_convert([docx_path], "doc", root / "doc")
    (rtf_path,) = soffice_convert([docx_path], "rtf", root / "rtf")
    (xls_path,) = soffice_convert([xlsx_path], "xls", root / "xls")
    return {
        "docx": docx_path, "doc": doc_path, "rtf": rtf_path, "xlsx": xlsx_path, "xls": xls_path,
        "odt": write_odt(root / "letter.odt", "KẾ HOẠCH", BODY),
    }


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("kind,media_type", [("docx", DOCX), ("doc", DOC), ("odt", ODT), ("rtf", "application/rtf")])
def test_word_processor_files_give_their_text(files, kind, media_type):
    result = extract(files[kind])
    assert result.media_type == media_type
    text = flat(result.text)
    for paragraph in BODY:
        assert paragraph in text
    assert all(p.method == "text" for p in result.pages if p.text)
    if kind in ("docx", "doc", "rtf"):
        assert "74/KH-UBND" in text and "Kế hoạch kiểm kê trụ sở" in text  # the table too
    if kind == "odt":
        assert "KẾ HOẠCH" in text  # the heading


@pytest.mark.parametrize("kind,media_type", [("xlsx", XLSX), ("xls", XLS)])
def test_spreadsheets_give_a_page_per_sheet(files, kind, media_type):
    result = extract(files[kind])
    assert result.media_type == media_type
    assert len(result.pages) == 2
    assert "Tiếp nhận hồ sơ đất đai" in result.pages[0].text and "Văn bản đến" in result.pages[0].text
    assert "Phân công nhiệm vụ phòng chống lụt bão" in result.pages[1].text


def test_the_type_comes_from_the_content_not_the_name(files, tmp_path):
    disguised = {
        "docx": ("scan.pdf", DOCX), "doc": ("notes.txt", DOC), "xlsx": ("letter.doc", XLSX),
        "xls": ("table.xlsx", XLS), "odt": ("letter.docx", ODT), "rtf": ("page.html", "application/rtf"),
    }
    for kind, (name, media_type) in disguised.items():
        target = tmp_path / name
        shutil.copy(files[kind], target)
        assert sniff(target) == media_type, kind
        assert extract(target).media_type == media_type


def test_html_keeps_the_visible_text_only(tmp_path):
    path = tmp_path / "page.bin"
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Cổng</title>"
        "<style>p { color: red }</style><script>var secret = 'khongduocthay';</script></head>"
        "<body><h1>Thông báo</h1><p>Lịch tiếp công dân&nbsp;tháng 5 &amp; tháng 6</p>"
        "<table><tr><td>Thứ Hai</td><td>Chủ tịch UBND</td></tr></table></body></html>",
        encoding="utf-8",
    )
    result = extract(path)
    assert result.media_type == "text/html"
    assert "Thông báo" in result.text and "Lịch tiếp công dân tháng 5 & tháng 6" in result.text
    assert "Thứ Hai" in result.text and "Chủ tịch UBND" in result.text
    assert "khongduocthay" not in result.text and "color" not in result.text


def test_broken_and_empty_office_files_are_refused_with_a_reason(files, tmp_path):
    truncated = tmp_path / "cut.docx"
    truncated.write_bytes(files["docx"].read_bytes()[:3000])
    with pytest.raises(ExtractionRefused, match="hỏng hoặc bị cắt cụt"):
        extract(truncated)

    broken_doc = tmp_path / "cut.doc"
    broken_doc.write_bytes(files["doc"].read_bytes()[:1500])
    with pytest.raises(ExtractionRefused, match="hỏng"):
        extract(broken_doc)

    broken_xls = tmp_path / "cut.xls"
    broken_xls.write_bytes(files["xls"].read_bytes()[:1500])
    with pytest.raises(ExtractionRefused):
        extract(broken_xls)

    empty = write_docx(tmp_path / "empty.docx", [])
    with pytest.raises(ExtractionRefused, match="không có nội dung"):
        extract(empty)

    # A .docx whose XML part is damaged inside an intact zip.
    damaged = tmp_path / "damaged.docx"
    with zipfile.ZipFile(files["docx"]) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    with pytest.raises(ExtractionRefused, match="DOCX hỏng"):
        extract(damaged)


def test_a_doc_marked_encrypted_is_refused_as_password_protected(files, tmp_path):
    """Word sets fEncrypted (bit 8 of the FIB flags at offset 10) in a password-protected DOC."""
    import olefile

    path = tmp_path / "locked.doc"
    shutil.copy(files["doc"], path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        fib = bytearray(ole.openstream("WordDocument").read())
        flags = int.from_bytes(fib[10:12], "little") | 0x0100
        fib[10:12] = flags.to_bytes(2, "little")
        ole.write_stream("WordDocument", bytes(fib))
    with pytest.raises(ExtractionRefused, match="mật khẩu"):
        extract(path)
