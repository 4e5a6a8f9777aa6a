"""The signature block: authority (`TM.`, `KT.`, `T/M` ...), the signer's title, `(Đã ký)`, the name.

It stands beside `Nơi nhận` or before it; a text layer or OCR may interleave the two
columns on one line ('- Lưu: VT. PHÓ CHỦ TỊCH'), so titles are also taken from the
uppercase tail of a line and names from the tail after punctuation. A name counts only
next to what marks a signature (a title or authority line above it, `(Đã ký)` around
it): a document whose signature was not kept gets no signer rather than a guess.
"""

from __future__ import annotations

import re

from .folding import fold, is_upper_text

__all__ = ["find_signature", "AUTHORITY_RE"]

AUTHORITY_RE = re.compile(
    r"^(?:k\s*\.?\s*t|t\s*\.?\s*m|t\s*\.?\s*l|tuq|q|t\s*/\s*m|k\s*/\s*t|thua lenh|"
    r"thua uy quyen|thay mat)\s*[.:/]?\s"
)
_SIGNED = re.compile(r"^\(?\s*(?:da ky|ky ten|ky,|ky va|ky\)|chu ky|signed|da ky va dong dau|ky, ghi ro)")
_TITLE_RE = re.compile(
    r"^(?:pho |quyen |q\. ?)?(?:chu tich|giam doc|bi thu|tong bi thu|thu tuong|bo truong|thu truong|"
    r"chanh (?:van phong|an|thanh tra)|truong (?:ban|phong|khoa|tram|thon|ap|cong an|doan|tieu ban|ty)|"
    r"chu nhiem|tong (?:thu ky|giam doc|cuc truong|bien tap|thanh tra)|cuc truong|vien truong|hieu truong|"
    r"uy vien|thu ky|ke toan|chi huy truong|doi truong|chanh thanh tra|trung doan truong|tu lenh|"
    r"nguoi (?:ky|lap|viet)|can bo|cong chuc|dai dien|chu toa)(?![a-z])"
)
_NAME_BREAK = re.compile(r"[;:.)]\s+|\s{2,}")
# Exact words (tones matter: 'Trần' is a surname, 'Trận' is not).
_NOT_NAMES = set(
    [
        "như",
        "điều",
        "nơi",
        "căn",
        "kính",
        "ủy",
        "uỷ",
        "sở",
        "phòng",
        "ban",
        "các",
        "hội",
        "ông",
        "bà",
        "đồng",
        "chí",
        "trung",
        "ương",
        "tỉnh",
        "huyện",
        "xã",
        "thôn",
        "chương",
        "mục",
        "phần",
        "quyết",
        "định",
        "việt",
        "nam",
        "hà",
        "nội",
        "cộng",
        "hòa",
        "hoà",
        "độc",
        "lập",
        "tự",
        "do",
        "hạnh",
        "phúc",
        "thủ",
        "tướng",
        "bộ",
        "trưởng",
        "chủ",
        "tịch",
        "giám",
        "đốc",
        "chính",
        "phủ",
        "quốc",
        "đảng",
        "đoàn",
        "mặt",
        "trận",
        "tổ",
        "nhân",
        "dân",
        "văn",
        "thường",
        "trực",
        "công",
        "báo",
        "website",
        "cổng",
        "thông",
        "tin",
        "lưu",
    ]
)
_SURNAMES = set(
    [
        "nguyễn",
        "trần",
        "lê",
        "phạm",
        "hoàng",
        "huỳnh",
        "phan",
        "vũ",
        "võ",
        "đặng",
        "bùi",
        "đỗ",
        "hồ",
        "ngô",
        "dương",
        "lý",
        "đào",
        "đoàn",
        "vương",
        "trịnh",
        "trương",
        "lâm",
        "mai",
        "đinh",
        "lưu",
        "tạ",
        "cao",
        "hà",
        "chu",
        "kiều",
        "lương",
        "tô",
        "quách",
        "thái",
        "la",
        "đàm",
        "lại",
        "khổng",
        "triệu",
        "tăng",
        "hứa",
        "phùng",
        "nghiêm",
        "tống",
        "doãn",
        "mạc",
        "vi",
        "lục",
        "giang",
        "nông",
        "âu",
        "khúc",
        "đồng",
        "thân",
        "lò",
        "quản",
        "hầu",
        "viên",
        "ninh",
        "phí",
        "kim",
        "lã",
        "mẫn",
        "bế",
        "hà",
        "thạch",
        "lưu",
    ]
)


def _is_name(words: list[str]) -> bool:
    if not 2 <= len(words) <= 5:
        return False
    if not all(w.isalpha() and w[0].isupper() and (len(w) == 1 or w[1:].islower()) for w in words):
        return False
    if words[0].lower() in _SURNAMES:
        return True
    return sum(w.lower() in _NOT_NAMES for w in words) < len(words) - 1


def _name_in(line: str) -> str | None:
    """A personal name filling the line, or its tail after punctuation (interleaved columns)."""
    line = line.strip()
    for tail in [line] + [line[m.end() :] for m in _NAME_BREAK.finditer(line)]:
        words = tail.strip(" ,").split()
        if _is_name(words):
            return " ".join(words)
        if (
            2 <= len(words) <= 4
            and all(w.isalpha() for w in words)
            and is_upper_text(tail, 0.99)
            and words[0].lower() in _SURNAMES
        ):
            # An uppercase name ('NGUYỄN VĂN AN'): only trusted right under a title, see below.
            return "UPPER:" + " ".join(w.capitalize() for w in words)
    return None


def _title_in(line: str) -> str | None:
    """A signer's title filling the line or closing it in uppercase ('- Lưu: VT. PHÓ CHỦ TỊCH')."""
    f = fold(line).strip(" .:")
    if not f or AUTHORITY_RE.match(f + " ") or _SIGNED.match(f):
        return None
    if _TITLE_RE.match(f) and len(line) <= 60 and (is_upper_text(line) or len(line.split()) <= 6):
        return line.strip(" .:")
    words = line.split()
    tail: list[str] = []
    for w in reversed(words):
        bare = w.rstrip(":.,")
        if bare.isalpha() and bare.isupper() and len(bare) > 1 or bare in {"Q", "TL"}:
            tail.append(w)
        else:
            break
    tail.reverse()
    if len(tail) >= 2:
        for k in range(len(tail) - 1):
            seg = " ".join(tail[k:])
            if _TITLE_RE.match(fold(seg)):
                return seg.strip(" .:")
    return None


def _anchor(line: str) -> bool:
    """Lines that mark a signature block: authority, a title, (Đã ký)."""
    f = fold(line).strip()
    return bool(
        AUTHORITY_RE.match(f + " ")
        or _SIGNED.match(f)
        or _title_in(line)
        or re.search(r"(?:^|\s)(?:k\s*\.?\s*t|t\s*\.?\s*m|t\s*/\s*m|k\s*/\s*t)\s*[.:/]\s*\S", f)
    )


def _anchored_above(region: list[str], i: int) -> bool:
    """An anchor above line i, past recipients ('- ...') and short lines, not past a paragraph."""
    for j in range(i - 1, max(-1, i - 14), -1):
        line = region[j]
        if _anchor(line):
            return True
        if not (line.lstrip()[:1] in "-+•*" or fold(line).startswith("noi nhan") or len(line) < 70):
            return False
    return False


def find_signature(lines: list[str], body_start: int) -> dict[str, object]:
    """signer and signer_title from the tail of the document."""
    start = max(body_start, len(lines) - 40, 0)
    region = lines[start:]
    found: dict[str, object] = {}
    names: list[tuple[int, str]] = []
    for i, line in enumerate(region):
        name = _name_in(line)
        if not name:
            continue
        above = region[max(0, i - 5) : i]
        below = region[i + 1 : i + 2]
        near_above = _anchored_above(region, i)
        signed_below = any(_SIGNED.match(fold(x)) for x in below)
        if name.startswith("UPPER:"):
            direct = [x for x in above[-2:] if not _SIGNED.match(fold(x))]
            if not (direct and _title_in(direct[-1])) and not any(_SIGNED.match(fold(x)) for x in above[-2:]):
                continue
            name = name[len("UPPER:") :]
        if near_above or signed_below:
            names.append((i, name))
    if names:
        at, name = names[-1]
        found["signer"] = name
        for j in range(at - 1, max(-1, at - 9), -1):
            line = region[j]
            f = fold(line)
            if _SIGNED.match(f) or not f:
                continue
            title = _title_in(line)
            if title:
                found["signer_title"] = title
                break
            if AUTHORITY_RE.match(f + " ") or len(line) > 80:
                break
            if not (line.lstrip()[:1] in "-+•*" or is_upper_text(line) or len(line) < 60):
                break
        return found
    # No name: a title closing the document on its own (the name was not published).
    for j in range(len(region) - 1, max(-1, len(region) - 4), -1):
        f = fold(region[j])
        if _SIGNED.match(f):
            continue
        title = _title_in(region[j])
        if title and is_upper_text(title):
            found["signer_title"] = title
        break
    return found
