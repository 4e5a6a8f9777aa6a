"""The letterhead: two columns, the issuing body and number on the left, the national motto
(or ĐẢNG CỘNG SẢN VIỆT NAM, ĐOÀN TNCS HỒ CHÍ MINH) and the place and date on the right.

Plain text gives the columns in any order — one after the other, or interleaved row by row
by a PDF layer or OCR — so the right column is recognised by what it says (the motto, a
date line) and everything else in the header is the left column, kept in its order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .doctypes import DOC_TYPES, title_type
from .folding import cut, fold, fold_keep, is_upper_text, strip_junk

__all__ = [
    "Header",
    "is_title_line",
    "opens_body",
    "split_header",
    "find_number",
    "find_date",
    "find_issuer",
    "readable_issuer",
    "MOTTO_RES",
    "place_before",
]

# On folded text.
MOTTO_RES = [
    re.compile(r"cong\s*hoa\s*xa\s*hoi\s*chu\s*nghia\s*viet\s*nam"),
    re.compile(r"viet\s*nam\s*dan\s*chu\s*cong\s*hoa"),
    re.compile(r"doc\s*lap\s*\W{0,3}\s*tu\s*do\s*\W{0,3}\s*hanh\s*phuc"),
    re.compile(r"dang\s*cong\s*san\s*viet\s*nam"),
    re.compile(r"doan\s*(?:tncs|thanh\s*nien\s*cong\s*san)\s*ho\s*chi\s*minh"),
]
_DOAN_RE = MOTTO_RES[4]
DATE_WORDS_RE = re.compile(r"ngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")
DATE_NUM_RE = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
# A date line left blank for the day or month ('ngày ….. tháng 12 năm 2021'): right column, no date.
_DATE_BLANK_RE = re.compile(r"ngay\s*[\d.…_ ]*\s*thang\s*[\d.…_ ]*\s*nam\s*\d{4}")
_NUMBER_LABEL_RE = re.compile(r"^(?:[a-z ]{0,20}\s)?s\S?\s*[:.]")
# On the original text: 'Số:', OCR's 'S6:' / 'Sô', then the number; old forms '97-CP',
# '08-TTg-NN', Đảng '97-QĐ/TW', spaced '367 - QĐ/TWĐTN-VP', '33/2009/QĐ-UBND'.
NUMBER_RE = re.compile(
    r"(?<![^\W\d_])(?:S|SỐ|Số|số)[^\s:/]?\s*[:;.,]?\s*"
    r"(\d{1,5}[a-zA-Z]?\s*[/–-]\s*[^\W_][\w&.]*(?:\s*[/–-]\s*[^\W_][\w&.]*)*)"
)
_VV_RE = re.compile(r"^(?:v\s*/\s*[vy]|ve\s*viec)(?![a-z])")
_BODY_START = re.compile(r"^(?:ve |v\s*/\s*v\b|kinh gui|can cu|thuc hien|\(ban hanh kem|xet de nghi|theo de nghi)")
_LEVELS = sorted(
    [
        ("thi tran", "thị trấn"),
        ("thi xa", "thị xã"),
        ("thanh pho", "thành phố"),
        ("xa", "xã"),
        ("huyen", "huyện"),
        ("tinh", "tỉnh"),
        ("phuong", "phường"),
        ("quan", "quận"),
    ],
    key=lambda p: -len(p[0]),
)
# Issuing bodies whose name needs the next line (the unit) to be complete: (folded, readable).
_ORGANS = sorted(
    [
        ("uy ban nhan dan", "Ủy ban nhân dân"),
        ("ubnd", "UBND"),
        ("hoi dong nhan dan", "Hội đồng nhân dân"),
        ("hdnd", "HĐND"),
        ("uy ban mat tran to quoc viet nam", "Ủy ban Mặt trận Tổ quốc Việt Nam"),
        ("uy ban mttq viet nam", "Ủy ban MTTQ Việt Nam"),
        ("ubmttq viet nam", "UBMTTQ Việt Nam"),
        ("ubmttq", "UBMTTQ"),
        ("dang uy", "Đảng ủy"),
        ("cong an", "Công an"),
        ("ban chi huy quan su", "Ban Chỉ huy Quân sự"),
        ("tram y te", "Trạm Y tế"),
        ("van phong hdnd va ubnd", "Văn phòng HĐND và UBND"),
        ("van phong ubnd", "Văn phòng UBND"),
        ("hoi nong dan", "Hội Nông dân"),
        ("hoi lien hiep phu nu", "Hội Liên hiệp Phụ nữ"),
        ("hoi cuu chien binh", "Hội Cựu chiến binh"),
        ("doan tncs ho chi minh", "Đoàn TNCS Hồ Chí Minh"),
    ],
    key=lambda p: -len(p[0]),
)
_ORGAN_KEYS = {o for o, _ in _ORGANS}
# Lines of the left column that name a function inside the body, not the body itself.
_FUNCTION_LINES = {"ban thuong truc", "thuong truc"}
# Lines that cannot be a body's whole name: the next line completes them.
_INCOMPLETE = {"uy ban thuong vu", "thuong truc", "ban thuong truc", "ban thuong vu"}
_TERM_RE = re.compile(r"^(?:nhiem ky|khoa [ivxlc\d]+|\*+$)")


@dataclass
class Header:
    left: list[str] = field(default_factory=list)  # left column, top to bottom
    right: list[str] = field(default_factory=list)
    end: int = 0  # index of the first line after the header
    title: int | None = None  # index of the type line (KẾ HOẠCH, QUYẾT ĐỊNH ...), if any


def place_before(before: str) -> str | None:
    """The place name ending `before` ('... Hà Nội' -> 'Hà Nội', 'Phan Rang-Tháp Chàm')."""
    taken: list[str] = []
    for w in reversed(before.split()):
        bare = w.replace("-", "").replace(".", "")
        if (
            (w[:1].isupper() or w[:1].isdigit())
            and (bare.isalpha() or bare.isdigit())
            and not (bare.isalpha() and is_upper_text(w, 0.99) and len(bare) > 1)
        ):
            taken.append(w)
        else:
            break
        if len(taken) == 4:
            break
    while taken and taken[-1][:1].isdigit():  # 'Quận 8' keeps its digit, a lone number does not start a place
        taken.pop()
    return " ".join(reversed(taken)) or None


def _date_span(line: str, f: str) -> tuple[int, int] | None:
    for r in (DATE_WORDS_RE, DATE_NUM_RE, _DATE_BLANK_RE):
        d = r.search(f)
        if d:
            comma = f.rfind(",", 0, d.start())
            start = d.start()
            if comma >= 0 and not f[comma + 1 : d.start()].strip():
                place = place_before(line[:comma]) or ""
                start = comma - len(place)
            return start, d.end()
    return None


def _right_spans(line: str, f: str) -> list[tuple[int, int]]:
    spans = [m.span() for r in MOTTO_RES for m in r.finditer(f)]
    d = _date_span(line, f)
    if d:
        spans.append(d)
    return spans


def is_title_line(line: str, f: str) -> bool:
    if not is_upper_text(line) or line.rstrip().endswith(":"):  # 'QUYẾT ĐỊNH:' opens the articles
        return False
    hit = title_type(f)
    if not hit:
        return False
    name, rest = hit
    if rest:
        # Only several-word names may carry the subject on their own line ('QUY CHẾ LÀM').
        return " " in fold(name) and not any(r.search(f) for r in MOTTO_RES)
    return True


def split_header(lines: list[str], folded: list[str]) -> Header:
    """The header's two columns and where the body starts, from lines in any column order."""
    head = Header()
    limit = min(len(lines), 16)
    seen_right = seen_date = False
    letterhead = any(
        is_upper_text(line[m.start() : m.end()]) or r is MOTTO_RES[2]
        for line, f in zip(lines[:8], folded[:8], strict=False)
        for r in MOTTO_RES
        for m in r.finditer(f)
    )
    for i in range(limit):
        line, f = lines[i], folded[i]
        if is_title_line(line, f) or (i == 0 and not letterhead and _is_plain_title(f)):
            head.title, head.end = i, i
            return head
        key = f.strip(" -*")
        vv_mixed = _VV_RE.match(key) and not is_upper_text(line)
        if i > 0 and (seen_right or head.left) and _BODY_START.match(key) and not vv_mixed:
            head.end = i
            return head
        spans = _right_spans(line, f)
        if (
            not spans
            and i > 0
            and (seen_right or head.left)
            and (len(line) > 75 and not is_upper_text(line) and not _VV_RE.match(key))
        ):
            head.end = i
            return head
        closed = seen_date and any(NUMBER_RE.search(x) for x in head.left)
        if closed and not spans and is_upper_text(line) and len(line) > 20 and not _VV_RE.match(key):
            head.end = i  # an uppercase subject right under a complete header (type line lost)
            return head
        if spans:
            seen_right = True
            seen_date = seen_date or any(r.search(f) for r in (DATE_WORDS_RE, DATE_NUM_RE, _DATE_BLANK_RE))
            head.right += [line[a:b].strip() for a, b in sorted(spans)]
        for piece in cut(line, spans):
            piece = piece.strip(" ,;|")
            if any(c.isalnum() for c in piece):
                head.left.append(piece)
    head.end = limit
    return head


def opens_body(line: str) -> bool:
    """'Căn cứ ...', 'Kính gửi ...' or a long line of prose: the body has begun."""
    key = fold(line).strip(" -*")
    return bool(re.match(r"^(?:kinh gui|can cu|thuc hien|xet de nghi|theo de nghi|dieu \d)", key)) or (
        len(line) > 75 and not is_upper_text(line)
    )


def _is_plain_title(f: str) -> bool:
    """A page without letterhead (printed from a portal) opening with 'Thông báo lịch tiếp ...'."""
    hit = title_type(f)
    return bool(hit and hit[1] and " " in f)


def find_number(left: list[str]) -> tuple[str, int] | None:
    """(number, index of its piece) from the left column."""
    for k, piece in enumerate(left):
        m = NUMBER_RE.search(piece)
        if not m and k + 1 < len(left) and re.fullmatch(r"s\S?\s*[:.]?", fold(piece)):  # 'Số:' / '14/2007/QĐ-UBND'
            m = NUMBER_RE.search(f"{piece} {left[k + 1]}")
        if m:
            number = re.sub(r"\s+", "", m.group(1)).replace("–", "-").rstrip(".-/")
            return _fix_symbol(number), k
    return None


def _fix_symbol(number: str) -> str:
    """OCR doubles letters now and then ('QĐĐ-UBND'): undo it when that yields a known type."""
    parts = number.split("/")
    for k, part in enumerate(parts[1:], start=1):
        if part.isdigit():
            continue
        symbol, sep, rest = part.partition("-")
        if symbol not in DOC_TYPES:
            squeezed = re.sub(r"(.)\1+", r"\1", symbol)
            if squeezed in DOC_TYPES:
                parts[k] = squeezed + sep + rest
        break
    return "/".join(parts)


def find_date(pieces: list[str]) -> dict[str, object]:
    """issued_date(_raw) and place from the first date line among `pieces` (right column first)."""
    for require_comma in (True, False):
        for piece in pieces:
            f = fold_keep(piece)
            for regex in (DATE_WORDS_RE, DATE_NUM_RE):
                m = regex.search(f)
                if not m:
                    continue
                before = f[: m.start()].rstrip()
                if require_comma and not before.endswith(","):
                    continue
                found: dict[str, object] = {"issued_date_raw": piece[m.start() : m.end()]}
                d, mo, y = (int(g) for g in m.groups())
                try:
                    found["issued_date"] = date(y, mo, d)
                except ValueError:
                    pass
                place = place_before(piece[: len(before)].rstrip(" ,"))
                if place:
                    found["place"] = place
                return found
    return {}


def find_issuer(left: list[str], right: list[str], stop: int | None) -> str | None:
    """The issuing body: the lowest level of the letterhead, joined to the lines that complete
    its name ('ỦY BAN NHÂN DÂN' + 'TỈNH SÓC TRĂNG', 'ỦY BAN THƯỜNG VỤ' + 'QUỐC HỘI'); a parent
    level above it ('THÀNH PHỐ HỒ CHÍ MINH', 'BAN CHẤP HÀNH TRUNG ƯƠNG') is left out."""
    candidates: list[str] = []
    for piece in left[: stop if stop is not None else len(left)]:
        f = fold(piece)
        if _VV_RE.match(f) or NUMBER_RE.search(piece) or _NUMBER_LABEL_RE.match(f):
            break
        piece = strip_junk(piece)
        if len(piece) < 3 or not is_upper_text(piece, 0.7) or _TERM_RE.match(fold(piece)):
            continue
        candidates.append(piece)
    while len(candidates) > 1 and fold(candidates[-1]).strip(" .") in _FUNCTION_LINES:
        candidates.pop()
    if not candidates:
        return None
    merged: list[str] = []
    join_next = False
    for c in candidates:
        fc = fold(c)
        prev_bare = merged and (fold(merged[-1]) in _ORGAN_KEYS or fold(merged[-1]) == "y ban nhan dan")
        is_level = any(fc.startswith(level + " ") for level, _ in _LEVELS) or fc in {"xa", "phuong"}
        if merged and (join_next or (prev_bare and is_level)):
            merged[-1] = f"{merged[-1]} {c}"
        else:
            merged.append(c)
        join_next = fc.strip(" .") in _INCOMPLETE
    issuer = merged[-1]
    fi = fold(issuer)
    if any(_DOAN_RE.search(fold(r)) for r in right) and fi.startswith("ban chap hanh") and "doan" not in fi:
        issuer += " ĐOÀN TNCS HỒ CHÍ MINH"
    return readable_issuer(issuer)


def readable_issuer(name: str) -> str:
    """'UBND XÃ TÂN HƯNG' -> 'UBND xã Tân Hưng'; names it does not recognise come back as given."""
    name = " ".join(name.split())
    if re.match(r"^Y BAN NH[AÂ]N D[AÂ]N\b", name):  # a text layer that lost the first glyph of ỦY
        name = "Ủ" + name
    folded = fold(name)
    for prefix, readable in _ORGANS:
        if folded == prefix:
            return readable
        if folded.startswith(prefix + " "):
            rest = name[len(prefix) + 1 :]
            rest_f = folded[len(prefix) + 1 :]
            for level, level_readable in _LEVELS:
                if rest_f.startswith(level + " "):
                    proper = rest[len(level) + 1 :]
                    if not is_upper_text(proper, 0.99):
                        return name
                    return f"{readable} {level_readable} " + " ".join(w.capitalize() for w in proper.split())
            return name
    return name
