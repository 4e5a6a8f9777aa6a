"""The type line and the subject (trích yếu) under it, or the `V/v` subject of a Công văn.

Titles are often an UPPERCASE block of two to five lines (`KẾ HOẠCH` / `TRIỂN KHAI ...` /
`NĂM 2019 - 2020`), sometimes carried on the type line itself (`QUY CHẾ LÀM` / `VIỆC ...`);
older Công báo titles repeat issuer, number and date before the subject
(`CỦA HỘI ĐỒNG BỘ TRƯỞNG SỐ 72/HĐBT NGÀY 17-9-1981 VỀ VIỆC ...`), which is dropped.
The block ends at the authority line of a Quyết định (`CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH`), a
rule, the body (`Căn cứ`, `Kính gửi`, `Điều 1`) or a change between upper and mixed case.
"""

from __future__ import annotations

import re

from .doctypes import title_type
from .folding import fold, fold_keep, is_upper_text, strip_junk

__all__ = ["subject_after_title", "subject_vv", "title_of", "leading_subject"]

_PROSE_STOP = re.compile(
    r"^(?:[-+•]\s*)?(?:can cu|kinh gui|xet de nghi|xet|theo de nghi|thuc hien|noi nhan|nham|hom nay|sau khi|"
    r"tiep theo|trong (?:nhung|thoi)|qua |de |thi hanh|thay mat|ngay \d|thoi gian|dia diem|dieu \d|"
    r"\(ban hanh kem|\(kem theo)"
)
# Before any subject line: only what surely opens the body.
_FIRST_STOP = re.compile(
    r"^(?:[-+•]\s*)?(?:can cu|kinh gui|xet de nghi|theo de nghi|noi nhan|hom nay|\(ban hanh kem|"
    r"\(kem theo|thi hanh)"
)
_SECTION = re.compile(
    r"^(?:[ivxlc]+\s*[.\-–:]\s|\d+\s*[.)/]\s|[a-z]\)\s|dieu \d|(?:chuong|phan|muc) (?:[ivxlc]+|\d+)(?![a-z])|"
    r"quyet dinh\s*:|quyet nghi\s*:|nghi quyet\s*:)"
)
_AUTHORITY_STARTS = (
    "chu tich",
    "uy ban nhan dan",
    "ubnd",
    "hoi dong nhan dan",
    "hoi dong chinh phu",
    "hoi dong bo truong",
    "bo truong",
    "thu tuong",
    "pho thu tuong",
    "giam doc",
    "ban thuong vu",
    "ban chap hanh",
    "ban bi thu",
    "bo chinh tri",
    "quoc hoi",
    "uy ban thuong vu",
    "chanh van phong",
    "truong ban",
    "cuc truong",
    "tong cuc truong",
    "thu truong",
    "chu nhiem",
    "vien truong",
    "hieu truong",
    "ban thuong truc",
    "thuong truc",
    "tong giam doc",
    "chanh an",
    "dang uy",
    "huyen uy",
    "tinh uy",
    "thanh uy",
    "quan uy",
    "uy ban kiem tra",
    "ban to chuc",
    "hoi dong",
    "uy ban mat tran",
    "uy ban mttq",
    "ban chi dao",
    "doan chu tich",
)
# 'CỦA HỘI ĐỒNG BỘ TRƯỞNG SỐ 72/HĐBT NGÀY 17-9-1981 VỀ VIỆC' before the subject proper.
_PREFACE = re.compile(
    r"^cua\s*.{3,90}?\s(?:(?:so\s*[\w/.\-– ]{1,30}?\s*,?\s*)?nga?y\s*\d{1,2}(?:\s*thang\s*\d{1,2}\s*nam\s*\d{4}"
    r"|\s*[-/.–]\s*\d{1,2}\s*[-/.–]\s*\d{2,4})\s*,?\s*(?:ve\s*viec\s*|v\s*/\s*v\s*)?|(?:ve\s*viec|v\s*/\s*v)\s)"
)
_MAX_LINES = 8


def title_of(line: str) -> tuple[str, str]:
    """(type, the rest of the line in its original letters) of a type line."""
    hit = title_type(fold(line))
    assert hit is not None
    name, rest = hit
    if not rest:
        return name, ""
    if fold(name).startswith("lich "):  # 'Lịch tiếp công dân định kỳ ...' names itself
        return name, line
    m = re.match(r"^\W*" + r"\s*".join(map(re.escape, fold(name).split())), fold_keep(line))
    return name, (line[m.end() :] if m else rest).strip(" :.-")


def _is_authority(line: str, f: str, issuer_f: str) -> bool:
    if not is_upper_text(line):
        return False
    f = f.strip(" :.")
    return (
        f.startswith(_AUTHORITY_STARTS)
        or (bool(issuer_f) and f.startswith(issuer_f))
        or re.match(r"^khoa [ivxlc\d]+\s*[,-]?\s*ky hop", f) is not None
    )


def _drop_preface(subject: str) -> str:
    m = _PREFACE.match(fold_keep(subject))
    if m and m.end() < len(subject) - 5:
        return subject[m.end() :].strip(" ,.:")
    return subject


def _collect(lines: list[str], start: int, first: str, issuer_f: str) -> str:
    parts = [first] if first else []
    upper = is_upper_text(first) if first else None
    for j in range(start, min(start + _MAX_LINES, len(lines))):
        line = strip_junk(lines[j]) if not lines[j].startswith("(") else lines[j]
        f = fold(line)
        if not line:
            continue
        line_upper = is_upper_text(line)
        if upper is None:
            if _FIRST_STOP.match(f) or _SECTION.match(f) or _is_authority(line, f, issuer_f):
                break
            upper = line_upper
            parts.append(line)
            continue
        if line_upper != upper or _SECTION.match(f) or _is_authority(line, f, issuer_f):
            break
        if not upper:
            if _PROSE_STOP.match(f) or len(parts) >= 3 or len(line) > 100:
                break
            if parts[-1].rstrip().endswith((".", ":", ";", "./.")):
                break
        parts.append(line)
    return " ".join(" ".join(parts).split())


def _repair_label(subject: str) -> str:
    """OCR's 'Vàề việc' / 'Vẻ việc' is the fixed label 'Về việc'."""
    m = re.match(r"^(\S{1,4})\s+(\S{3,5})\s", subject)
    if m and re.fullmatch(r"v\w{0,2}", fold(m.group(1))) and fold(m.group(2)) == "viec" and fold(m.group(1)) != "ve":
        label = "VỀ VIỆC" if is_upper_text(m.group(0)) else "Về việc"
        return label + subject[m.end() - 1 :]
    return subject


def subject_after_title(lines: list[str], title: int, issuer: str | None) -> str | None:
    """The subject under the type line at `title` (or on it, after the type's name)."""
    _, rest = title_of(lines[title])
    subject = _collect(lines, title + 1, rest, fold(issuer or ""))
    subject = _drop_preface(_repair_label(subject)) if subject else subject
    return subject.strip(" .") or None


def leading_subject(lines: list[str], start: int, issuer: str | None) -> str | None:
    """An uppercase subject right after the header when the type line is missing ('VỀ NHIỆM VỤ ...')."""
    if start >= len(lines):
        return None
    f = fold(lines[start])
    if not is_upper_text(lines[start]) or len(lines[start]) < 15 or _is_authority(lines[start], f, fold(issuer or "")):
        return None
    return _collect(lines, start + 1, lines[start], fold(issuer or "")).strip(" .") or None


def subject_vv(left: list[str]) -> str | None:
    """`V/v ...` (or `Về việc ...`) in the left column and the lines under it."""
    for k, piece in enumerate(left):
        f = fold(piece)
        m = re.match(r"^(v\s*/\s*[vy]|ve\s*viec)(?![a-z])\s*[:.]?\s*", f)
        if not m:
            continue
        parts = ["V/v " + piece[m.end() :].strip() if f.startswith("v") else piece]
        for nxt in left[k + 1 :]:
            g = fold(nxt)
            if _PROSE_STOP.match(g) or is_upper_text(nxt) or len(parts) >= 4:
                break
            parts.append(nxt)
        return " ".join(" ".join(parts).split()).strip(" .") or None
    return None
