"""Canonical document fields of the contract (section 3) and how values are normalised."""

from __future__ import annotations

import functools
import re
from datetime import date

from indexes.fold import fold

from . import secrecy

# canonical column -> Document attribute
COLUMN_TO_ATTRIBUTE = {
    "ma_van_ban": "ma_van_ban",
    "huong": "direction",
    "so_ky_hieu": "number",
    "ngay_ban_hanh": "issued_date_raw",
    "loai_van_ban": "doc_type",
    "trich_yeu": "subject",
    "co_quan_ban_hanh": "issuer",
    "nguoi_ky": "signer",
    "chuc_vu_nguoi_ky": "signer_title",
    "noi_nhan": "recipients",
    "do_mat": "confidentiality",
    "do_khan": "urgency",
    "ma_ho_so": "dossier",
    "so_trang": "page_count",
    "ghi_chu": "remarks",
}
# so_thu_tu (order within the dossier) and a row's own che_do_su_dung are read by ``ingest.dossiers``.
KNOWN_COLUMNS = set(COLUMN_TO_ATTRIBUTE) | {"so_den", "ngay_den", "tep_dinh_kem", "so_thu_tu", "che_do_su_dung"}

# English keys of Nghị định 30/2020 Phụ lục VI and edXML, read like the Vietnamese names
ENGLISH_ALIASES = {
    "documentid": "ma_van_ban",
    "documentcode": "ma_van_ban",
    "issueddate": "ngay_ban_hanh",
    "promulgationdate": "ngay_ban_hanh",
    "typename": "loai_van_ban",
    "organname": "co_quan_ban_hanh",
    "subject": "trich_yeu",
    "signerinfo": "nguoi_ky",
    "fullname": "nguoi_ky",
    "position": "chuc_vu_nguoi_ky",
    "pageamount": "so_trang",
    "priority": "do_khan",
    "secretlevel": "do_mat",
    "attachments": "tep_dinh_kem",
    "direction": "huong",
    "notes": "ghi_chu",
    "docordinal": "so_thu_tu",
    "mode": "che_do_su_dung",
    "filecode": "ma_ho_so",
    "to": "noi_nhan",
}
PART_COLUMNS = {"codenumber", "codenotation"}  # joined into so_ky_hieu


@functools.lru_cache(maxsize=1024)  # a manifest's few column names, asked again for every row
def header_key(name: str) -> str:
    """``Số ký hiệu``, ``so_ky_hieu`` and ``SO KY HIEU`` all give ``sokyhieu``."""
    return re.sub(r"[^a-z0-9]", "", fold(name or ""))


_CANONICAL_BY_KEY = {header_key(c): c for c in KNOWN_COLUMNS}
_CANONICAL_BY_KEY.update(ENGLISH_ALIASES)


def canonical_column(name: str) -> str | None:
    return _CANONICAL_BY_KEY.get(header_key(name))


DIRECTIONS = {
    "den": "den",
    "vanbanden": "den",
    "incoming": "den",
    "in": "den",
    "di": "di",
    "vanbandi": "di",
    "outgoing": "di",
    "out": "di",
    "noibo": "noi_bo",
    "internal": "noi_bo",
}


def normalize_direction(value: str) -> str:
    return DIRECTIONS.get(header_key(value), "")


def secret_level(value: str) -> str:
    """The level to show if ``do_mat`` withholds the document (``secrecy``: anything but empty or Thường), else ""."""
    found = secrecy.from_manifest(value)
    return found.level if found is not None else ""


_DATE_PATTERNS = (
    re.compile(r"^(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[T ].*)?$"),
    re.compile(r"^ngay\s*(?P<d>\d{1,2})\s*thang\s*(?P<m>\d{1,2})\s*nam\s*(?P<y>\d{4})$"),
)


def parse_date(value: str) -> date | None:
    """``10/04/2025``, ``2025-04-10`` or ``ngày 10 tháng 4 năm 2025``; None if not a real date."""
    text = fold((value or "").strip())
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def split_attachments(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n|]", value or "") if part.strip()]
