"""Document types: the abbreviations of Nghị định 30/2020 and the names printed as titles."""

from __future__ import annotations

import unicodedata

from .folding import fold

__all__ = ["DOC_TYPES", "TITLE_NAMES", "normalize_doc_type", "type_from_number", "title_type"]

# Abbreviations of Nghị định 30/2020/NĐ-CP, Phụ lục III (CV is not official but
# common in exported registers).
DOC_TYPES: dict[str, str] = {
    "NQ": "Nghị quyết",
    "QĐ": "Quyết định",
    "CT": "Chỉ thị",
    "QC": "Quy chế",
    "QyĐ": "Quy định",
    "TC": "Thông cáo",
    "TB": "Thông báo",
    "HD": "Hướng dẫn",
    "CTr": "Chương trình",
    "KH": "Kế hoạch",
    "PA": "Phương án",
    "ĐA": "Đề án",
    "DA": "Dự án",
    "BC": "Báo cáo",
    "BB": "Biên bản",
    "TTr": "Tờ trình",
    "HĐ": "Hợp đồng",
    "CĐ": "Công điện",
    "GN": "Bản ghi nhớ",
    "TTh": "Bản thỏa thuận",
    "GUQ": "Giấy ủy quyền",
    "GM": "Giấy mời",
    "GGT": "Giấy giới thiệu",
    "GNP": "Giấy nghỉ phép",
    "PG": "Phiếu gửi",
    "PC": "Phiếu chuyển",
    "PB": "Phiếu báo",
    "CV": "Công văn",
    "KL": "Kết luận",  # Đảng documents (Quy định 66-QĐ/TW)
    "TT": "Thông tư",
    "NĐ": "Nghị định",
    "PL": "Pháp lệnh",  # legal documents (Luật ban hành văn bản QPPL), also in older numbers '38-TT-MN'
}
# Names printed as the title line, beyond those the abbreviations give (older laws,
# Đảng and đoàn thể documents, letters).
_MORE_NAMES = (
    "Thư công",
    "Thông tư liên bộ",
    "Đề cương",
    "Kịch bản",
    "Luật",
    "Nghị định",
    "Thông tư",
    "Thông tư liên tịch",
    "Nghị quyết liên tịch",
    "Pháp lệnh",
    "Sắc lệnh",
    "Lệnh",
    "Hiến pháp",
    "Thông tri",
    "Kết luận",
    "Quy định",
    "Lời kêu gọi",
    "Thư ngỏ",
    "Thư",
    "Thư kêu gọi",
    "Thư cảm ơn",
    "Thư khen",
    "Thư chúc mừng",
    "Thư thăm hỏi",
    "Lịch tiếp công dân",
    "Lịch công tác",
    "Điều lệ",
    "Nội quy",
    "Quy trình",
    "Giấy triệu tập",
    "Chỉ thị liên tịch",
    "Thông báo kết luận",
    "Lời hiệu triệu",
    "Tuyên bố",
    "Diễn văn",
    "Bản cam kết",
    "Giấy chứng nhận",
    "Công điện khẩn",
)
TITLE_NAMES: dict[str, str] = {fold(name): name for name in sorted(set(DOC_TYPES.values()) | set(_MORE_NAMES))}
TITLE_NAMES["cong dien khan"] = "Công điện"
TITLE_NAMES["quyet dinh cua"] = "Quyết định"
_BY_UPPER = {k.upper(): v for k, v in DOC_TYPES.items()}
_folded_keys: dict[str, set[str]] = {}
for _k, _v in DOC_TYPES.items():
    _folded_keys.setdefault(fold(_k), set()).add(_v)
_BY_FOLDED_KEY = {k: next(iter(v)) for k, v in _folded_keys.items() if len(v) == 1}  # QD→QĐ, not HD
_TITLES_LONGEST_FIRST = sorted(TITLE_NAMES, key=len, reverse=True)
# The same names by their first letter (each list still longest first): a line is only compared with the
# names it can start with, not with every name (the reader asks this of many lines of every letter).
_TITLES_BY_FIRST: dict[str, list[str]] = {}
for _name in _TITLES_LONGEST_FIRST:
    _TITLES_BY_FIRST.setdefault(_name[:1], []).append(_name)


def normalize_doc_type(value: str) -> str:
    """'KH' / 'kh' / 'KẾ HOẠCH' / 'Ke hoach' -> 'Kế hoạch'; unknown values come back stripped."""
    v = " ".join(unicodedata.normalize("NFC", value or "").split()).strip(" .:")
    if not v:
        return v
    for table, key in ((DOC_TYPES, v), (_BY_UPPER, v.upper()), (_BY_FOLDED_KEY, fold(v))):
        if key in table:
            return table[key]
    return TITLE_NAMES.get(fold(v), v)


def type_from_number(number: str) -> str | None:
    """The type a number's symbol names: '12/KH-UBND', '45-CT/TU', '06/2024/QĐ-UBND'."""
    pieces = [p for p in number.replace("/", "-").split("-")[1:] if p and not p.isdigit()]
    if not pieces:
        return None
    full = normalize_doc_type(pieces[0])
    if fold(full) not in TITLE_NAMES or full == pieces[0]:
        return None
    joint = {"LB": "liên bộ", "LT": "liên tịch", "LN": "liên ngành"}.get(pieces[1].upper() if len(pieces) > 1 else "")
    if joint and fold(f"{full} {joint}") in TITLE_NAMES:
        return TITLE_NAMES[fold(f"{full} {joint}")]
    return full


def title_type(folded_line: str) -> tuple[str, str] | None:
    """(type, folded rest) when a folded title line starts with a type name ('quy che lam' -> Quy chế, 'lam')."""
    key = " ".join(folded_line.strip(" :.-*").split())
    for name in _TITLES_BY_FIRST.get(key[:1], ()):  # every case below needs the key to start with the name
        if key == name:
            return TITLE_NAMES[name], ""
        if key.startswith(name + " "):
            return TITLE_NAMES[name], key[len(name) + 1 :]
        if " " in name and key.startswith(name) and key[len(name)].isalpha():  # 'KỊCH BẢNCHƯƠNG TRÌNH'
            return TITLE_NAMES[name], key[len(name) :]
    return None
