"""Metadata read from the text of a Nghị định 30/2020 letter (export contract, section 5).

The layout is fixed (issuing body top left, national motto top right, `Số: ...`,
place and date, title and subject, body, `Nơi nhận:` and the signature block), but
text from PDF layers and OCR comes with noise: tone errors, broken lines, and the
two header columns interleaved on one line. Fixed words are therefore matched on a
*folded* copy of the text (no diacritics, lower case, đ→d) that keeps every
character's position, so a match there slices the original text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = ["DOC_TYPES", "read_metadata", "normalize_doc_type", "fold", "readable_issuer"]

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
}
_FULL_NAMES = sorted(set(DOC_TYPES.values()) | {"Thư công", "Luật", "Nghị định", "Thông tư"})


# ------------------------------------------------------------------------ folding

def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    low = base.lower()
    return low if len(low) == 1 else base


def fold_keep(text: str) -> str:
    """Fold an NFC string character by character: same length, same positions."""
    return "".join(_fold_char(ch) for ch in text)


def fold(text: str) -> str:
    """Diacritics removed, lower case, đ→d, spaces collapsed (for comparisons)."""
    return " ".join(fold_keep(unicodedata.normalize("NFC", text)).split())


_BY_KEY = {k: v for k, v in DOC_TYPES.items()}
_BY_UPPER = {k.upper(): v for k, v in DOC_TYPES.items()}
_folded_keys: dict[str, set[str]] = {}
for _k, _v in DOC_TYPES.items():
    _folded_keys.setdefault(fold(_k), set()).add(_v)
_BY_FOLDED_KEY = {k: next(iter(v)) for k, v in _folded_keys.items() if len(v) == 1}  # QD→QĐ, not HD
_BY_FOLDED_NAME = {fold(name): name for name in _FULL_NAMES}
_BY_FOLDED_NAME["cong dien khan"] = "Công điện"


def normalize_doc_type(value: str) -> str:
    """'KH' / 'kh' / 'KẾ HOẠCH' / 'Ke hoach' -> 'Kế hoạch'; unknown values come back stripped."""
    v = " ".join(unicodedata.normalize("NFC", value or "").split()).strip(" .:")
    if not v:
        return v
    for table, key in ((_BY_KEY, v), (_BY_UPPER, v.upper()), (_BY_FOLDED_KEY, fold(v))):
        if key in table:
            return table[key]
    return _BY_FOLDED_NAME.get(fold(v), v)


# ---------------------------------------------------------------------- patterns

_NUMBER_RE = re.compile(
    r"(?<![^\W\d_])(?:S|SỐ|Số)[^\s:/]?\s*[:;.,]?\s*"
    r"(\d{1,5}\s*/\s*(?:\d{4}\s*/\s*)?[^\W_][\w&.]*(?:\s*[-–]\s*[\w&.]+)*)"
)
# On folded text:
_DATE_WORDS_RE = re.compile(r"ngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")
_DATE_NUM_RE = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_MOTTO_RES = [
    re.compile(r"cong\s*hoa\s*xa\s*hoi\s*chu\s*nghia\s*viet\s*nam"),
    re.compile(r"doc\s*lap\s*\W{0,3}\s*tu\s*do\s*\W{0,3}\s*hanh\s*phuc"),
]
_VV_RE = re.compile(r"(?<![a-z])v\s*/\s*[vy](?![a-z])")
_AUTHORITY_RE = re.compile(r"^(kt|tm|tl|tuq|q|ktl)\s*[.,]\s*\S")
_STOP_SUBJECT = ("kinh gui", "can cu", "noi nhan")

_UPPER_WORD = re.compile(r"^[^\W\d_]+$")
_NAME_BREAK = re.compile(r"[;:.)]\s+|\s{2,}")

_SURNAMES = {
    fold(s)
    for s in (
        "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đoàn Vương Trịnh "
        "Trương Lâm Mai Đinh Lưu Tạ Cao Hà Chu Kiều Lương Tô Quách Thái La Đàm Lại Khổng Triệu Tăng Hứa "
        "Phùng Nghiêm Tống Doãn Mạc Vi Lục Giang Nông Âu Văn Trịnh Khúc Đồng Thân Lò Quản Hầu Viên Ninh"
    ).split()
}

# Issuing bodies: (folded prefix, readable form). Longest first.
_ORGANS = sorted(
    [
        ("uy ban nhan dan", "Ủy ban nhân dân"),
        ("ubnd", "UBND"),
        ("hoi dong nhan dan", "Hội đồng nhân dân"),
        ("hdnd", "HĐND"),
        ("uy ban mat tran to quoc viet nam", "Ủy ban Mặt trận Tổ quốc Việt Nam"),
        ("ubmttq", "UBMTTQ"),
        ("dang uy", "Đảng ủy"),
        ("cong an", "Công an"),
        ("ban chi huy quan su", "Ban Chỉ huy Quân sự"),
        ("tram y te", "Trạm Y tế"),
        ("van phong hdnd va ubnd", "Văn phòng HĐND và UBND"),
        ("van phong ubnd", "Văn phòng UBND"),
    ],
    key=lambda p: -len(p[0]),
)
_LEVELS = sorted(
    [("thi tran", "thị trấn"), ("thi xa", "thị xã"), ("thanh pho", "thành phố"), ("xa", "xã"),
     ("huyen", "huyện"), ("tinh", "tỉnh"), ("phuong", "phường"), ("quan", "quận")],
    key=lambda p: -len(p[0]),
)


# ----------------------------------------------------------------------- helpers

def _clean_lines(text: str) -> list[str]:
    # Ð (U+00D0, eth) is never Vietnamese: it is OCR's reading of Đ.
    text = unicodedata.normalize("NFC", text).replace("Ð", "Đ").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]


def _is_upper_text(s: str, ratio: float = 0.85) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) / len(letters) >= ratio


def _cut(line: str, spans: list[tuple[int, int]]) -> list[str]:
    """The pieces of `line` outside `spans`."""
    pieces, pos = [], 0
    for a, b in sorted(spans):
        pieces.append(line[pos:a])
        pos = max(pos, b)
    pieces.append(line[pos:])
    return pieces


def _strip_junk(s: str) -> str:
    return s.strip(" -_—–=*~.,:;|•·#£")


def readable_issuer(name: str) -> str:
    """'UBND XÃ TÂN HƯNG' -> 'UBND xã Tân Hưng'; names it does not recognise come back as given."""
    name = " ".join(name.split())
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
                    if not _is_upper_text(proper, 0.99):
                        return name
                    return f"{readable} {level_readable} " + " ".join(w.capitalize() for w in proper.split())
            return name
    return name


# ------------------------------------------------------------------------ fields

def _find_number(text: str) -> tuple[str, int] | None:
    m = _NUMBER_RE.search(text)
    if not m:
        return None
    number = re.sub(r"\s+", "", m.group(1)).replace("–", "-").rstrip(".-")
    return _fix_symbol(number), m.start()


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


def _type_from_number(number: str) -> str | None:
    parts = number.split("/")[1:]
    for part in parts:
        if part.isdigit():
            continue
        symbol = part.split("-")[0]
        full = normalize_doc_type(symbol)
        return full if full in _FULL_NAMES else None
    return None


def _find_date(lines: list[str], folded: list[str], header_end: int) -> dict[str, object]:
    for require_comma in (True, False):
        limit = min(len(lines), 25 if require_comma else header_end)
        for i in range(limit):
            f = folded[i]
            for regex in (_DATE_WORDS_RE, _DATE_NUM_RE):
                m = regex.search(f)
                if not m:
                    continue
                before = f[: m.start()].rstrip()
                if require_comma and not before.endswith(","):
                    continue
                found: dict[str, object] = {"issued_date_raw": lines[i][m.start() : m.end()]}
                d, mo, y = (int(g) for g in m.groups())
                try:
                    found["issued_date"] = date(y, mo, d)
                except ValueError:
                    pass
                place = _place(lines[i][: len(before)].rstrip(" ,"))
                if place:
                    found["place"] = place
                return found
    return {}


def _place(before: str) -> str | None:
    words = before.split()
    taken: list[str] = []
    for w in reversed(words):
        if w[:1].isupper() and all(c.isalpha() or c == "." for c in w) and not _is_upper_text(w, 0.99):
            taken.append(w)
        else:
            break
        if len(taken) == 4:
            break
    return " ".join(reversed(taken)) or None


def _find_title(lines: list[str], folded: list[str]) -> int | None:
    for i, f in enumerate(folded[:40]):
        key = " ".join(f.strip(" :.-").split())
        if key in _BY_FOLDED_NAME and _is_upper_text(lines[i]):
            return i
    return None


def _continue_subject(lines: list[str], folded: list[str], start: int, first: str) -> str:
    parts = [first]
    for j in range(start + 1, min(start + 4, len(lines))):
        line = _without_header(lines[j], folded[j])
        if not line or folded[j].startswith(_STOP_SUBJECT):
            break
        if not (line[0].islower() or line[0].isdigit()):
            break
        parts.append(line)
    return " ".join(" ".join(parts).split())


def _subject_after_title(lines: list[str], folded: list[str], title: int) -> str | None:
    for j in range(title + 1, min(title + 4, len(lines))):
        line = _strip_junk(lines[j])
        if not line:
            continue
        if folded[j].startswith(_STOP_SUBJECT) or _is_upper_text(line):
            return None
        return _continue_subject(lines, folded, j, line)
    return None


def _subject_vv(lines: list[str], folded: list[str], stop: int) -> str | None:
    for i in range(min(stop, len(lines))):
        m = _VV_RE.search(folded[i])
        if m:
            rest = _without_header(lines[i][m.end() :], folded[i][m.end() :])
            if rest:
                return _continue_subject(lines, folded, i, "V/v " + rest)
    return None


def _header_spans(line: str, f: str) -> list[tuple[int, int]]:
    """Spans of the right header column (motto, place and date) inside a line."""
    spans = [m.span() for r in _MOTTO_RES for m in r.finditer(f)]
    for r in (_DATE_WORDS_RE, _DATE_NUM_RE):
        d = r.search(f)
        if d:
            comma = f.rfind(",", 0, d.start())
            start = d.start()
            if comma >= 0:
                place = _place(line[:comma]) or ""
                start = comma - len(place)
            spans.append((start, d.end()))
    return spans


def _without_header(line: str, f: str) -> str:
    return " ".join(" ".join(_cut(line, _header_spans(line, f))).split())


def _find_issuer(lines: list[str], folded: list[str], stop: int) -> str | None:
    candidates: list[str] = []
    for i in range(min(stop, 12, len(lines))):
        m = _NUMBER_RE.search(lines[i])
        spans = _header_spans(lines[i], folded[i])
        if m:
            spans.append((m.start(), len(lines[i])))
        for piece in _cut(lines[i], spans):
            piece = _strip_junk(piece)
            if _is_upper_text(piece) and len(piece) >= 4:
                candidates.append(piece)
    if not candidates:
        return None
    merged: list[str] = []
    for c in candidates:
        fc = fold(c)
        prev_bare = merged and fold(merged[-1]) in {o for o, _ in _ORGANS}
        if prev_bare and any(fc.startswith(level + " ") for level, _ in _LEVELS):
            merged[-1] = f"{merged[-1]} {c}"
        else:
            merged.append(c)
    return readable_issuer(merged[-1])


def _is_name(words: list[str]) -> bool:
    return 2 <= len(words) <= 5 and all(
        w.isalpha() and w[0].isupper() and (len(w) == 1 or w[1:].islower()) for w in words
    )


def _name_in(line: str) -> str | None:
    """A personal name filling the line, or its tail after punctuation (interleaved columns)."""
    line = line.strip()
    for tail in [line] + [line[m.end() :] for m in _NAME_BREAK.finditer(line)]:
        words = tail.split()
        if _is_name(words):
            return " ".join(words)
    return None


def _signature(lines: list[str], folded: list[str], body_start: int) -> dict[str, object]:
    noi_nhan = max((i for i, f in enumerate(folded) if f.startswith("noi nhan")), default=None)
    start = len(lines) - 15
    if noi_nhan is not None:
        start = min(start, noi_nhan)
    start = max(start, body_start, 0)
    found: dict[str, object] = {}
    title_at = None
    for i in range(start, len(lines)):
        words = lines[i].split()
        tail: list[str] = []
        for w in reversed(words):
            bare = w.rstrip(":")
            if (_UPPER_WORD.match(bare) and bare.isupper()) or re.fullmatch(r"(KT|TM|TL|TUQ|Q)\.", w):
                tail.append(w)
            else:
                break
        tail.reverse()
        if len(tail) < 2:
            continue
        segment = " ".join(tail)
        if _AUTHORITY_RE.match(fold(segment)):
            continue
        found["signer_title"] = segment
        title_at = i
    names: list[tuple[int, str]] = []
    for i in range(start, len(lines)):
        name = _name_in(lines[i])
        if name:
            names.append((i, name))
    if title_at is not None:
        after = [n for n in names if n[0] > title_at]
        names = after or names
    with_surname = [n for n in names if fold(n[1]).split()[0] in _SURNAMES]
    pick = (with_surname or names)[-1:] if names else []
    if pick:
        found["signer"] = pick[0][1]
    return found


def read_metadata(text: str) -> dict[str, object]:
    """Fields found in the text, among number, issued_date, issued_date_raw, place, doc_type,
    subject, issuer, signer, signer_title. Fields not found are absent."""
    lines = _clean_lines(text)
    # Blank lines and rules carry no field; OCR puts them in arbitrary places.
    lines = [line for line in lines if line.strip(" -_—–=*~")] or []
    if not lines:
        return {}
    folded = [fold_keep(line) for line in lines]
    out: dict[str, object] = {}

    number = None
    number_line = None
    head_text = "\n".join(lines[:40])
    hit = _find_number(head_text)
    if hit:
        number = hit[0]
        out["number"] = number
        number_line = head_text.count("\n", 0, hit[1])

    title = _find_title(lines, folded)
    kinh_gui = next((i for i, f in enumerate(folded[:40]) if f.startswith("kinh gui")), None)
    header_end = min(x for x in (title, kinh_gui, 12, len(lines)) if x is not None)

    out.update(_find_date(lines, folded, header_end))

    subject = None
    if title is not None:
        out["doc_type"] = normalize_doc_type(lines[title])
        subject = _subject_after_title(lines, folded, title)
    vv = _subject_vv(lines, folded, (title if title is not None else header_end) + 1)
    if subject is None and vv:
        subject = vv
        out.setdefault("doc_type", "Công văn")
    if "doc_type" not in out and number:
        t = _type_from_number(number)
        if t:
            out["doc_type"] = t
    if subject:
        out["subject"] = subject

    issuer_stop = number_line + 1 if number_line is not None else header_end
    if title is not None:
        issuer_stop = min(issuer_stop, title)
    issuer = _find_issuer(lines, folded, issuer_stop)
    if issuer:
        out["issuer"] = issuer

    body_start = max(x for x in (title, kinh_gui, number_line, 0) if x is not None) + 1
    out.update(_signature(lines, folded, body_start))
    return out
