"""Manifest rows are read the same whatever the header spelling, format or encoding."""
import json
import unicodedata

from openpyxl import Workbook

from ingest.fields import parse_date, secret_level
from ingest.manifests import read_manifest

VIETNAMESE_HEADER = ["Mã văn bản", "Số ký hiệu", "Ngày ban hành", "Trích yếu", "Cột lạ"]
ROW = ["VB-1", "74/KH-UBND", "10/04/2025", "V/v sắp xếp đơn vị hành chính", "giữ lại"]


def _check(manifest):
    (row,) = manifest.rows
    assert row.key == "VB-1"
    assert row.values["so_ky_hieu"] == "74/KH-UBND"
    assert row.values["trich_yeu"] == "V/v sắp xếp đơn vị hành chính"
    assert row.extra == {"Cột lạ": "giữ lại"}  # unknown columns are kept, never dropped


def test_csv_with_diacritic_headers_and_bom(tmp_path):
    path = tmp_path / "documents.csv"
    path.write_bytes(("\ufeff" + ",".join(VIETNAMESE_HEADER) + "\n" + ",".join(ROW) + "\n").encode("utf-8"))
    _check(read_manifest(path))


TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def encode_cp1258(text: str) -> bytes:
    """Encode as Windows does: precomposed base letters (â, ơ, ư...) followed by combining tone marks."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        base = "".join(c for c in decomposed if c not in TONE_MARKS)
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        out += unicodedata.normalize("NFC", base).encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


def test_csv_in_windows_1258_is_converted_and_reported(tmp_path):
    path = tmp_path / "documents.csv"
    header = "SO KY HIEU;MA_VAN_BAN;trich yeu;Cột lạ"
    line = "74/KH-UBND;VB-1;V/v sắp xếp đơn vị hành chính;giữ lại"
    data = encode_cp1258(header + "\n" + line + "\n")
    assert data.decode("cp1258") != header + "\n" + line + "\n"  # really decomposed, not NFC
    path.write_bytes(data)
    manifest = read_manifest(path)
    _check(manifest)
    assert any("Windows-1258" in w for w in manifest.warnings)


def test_jsonl_with_english_nd30_keys(tmp_path):
    path = tmp_path / "documents.jsonl"
    record = {"DocumentId": "VB-1", "CodeNumber": "74", "CodeNotation": "KH-UBND", "IssuedDate": "2025-04-10",
              "Subject": "V/v sắp xếp đơn vị hành chính", "Cột lạ": "giữ lại"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n\nnot json\n", encoding="utf-8")
    manifest = read_manifest(path)
    first, broken = manifest.rows
    assert first.key == "VB-1" and first.values["so_ky_hieu"] == "74/KH-UBND"
    assert first.values["ngay_ban_hanh"] == "2025-04-10"
    assert "__invalid__" in broken.extra and manifest.warnings


def test_xlsx_first_sheet(tmp_path):
    path = tmp_path / "documents.xlsx"
    book = Workbook()
    book.active.append(VIETNAMESE_HEADER)
    book.active.append(ROW)
    book.save(path)
    _check(read_manifest(path))


def test_dates_and_secrecy():
    assert parse_date("10/04/2025").isoformat() == "2025-04-10"
    assert parse_date("2025-04-10").isoformat() == "2025-04-10"
    assert parse_date("ngày 10 tháng 4 năm 2025").isoformat() == "2025-04-10"
    assert parse_date("31/02/2025") is None and parse_date("hôm qua") is None
    assert secret_level("Tối mật") == "Tối mật" and secret_level("TUYET MAT") == "Tuyệt mật"
    assert secret_level("Thường") == "" and secret_level("") == ""
