"""Reading the optional dossier list ``ho_so.csv|jsonl|xlsx`` (contract section 3a).

Headers are matched as for ``documents.*`` (case, diacritics, spaces and underscores
ignored), with the longer Phụ lục VI headers and the English keys of the records
standards as aliases; unknown columns are kept, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .encodings import conversion_note, fix_legacy_rows
from .fields import header_key
from .manifests import READERS

DOSSIER_STEM = "ho_so"

COLUMNS = (
    "ma_ho_so",
    "tieu_de",
    "thoi_han_bao_quan",
    "che_do_su_dung",
    "muc_do_tin_cay",
    "nguoi_lap",
    "ngay_bat_dau",
    "ngay_ket_thuc",
    "tu_khoa",
    "so_luong_van_ban",
    "so_luong_trang",
    "ghi_chu",
)
# Longer Vietnamese headers of Phụ lục VI and the English keys of the records standards, read the same.
ALIASES = {
    "tieudehoso": "tieu_de",
    "tenhoso": "tieu_de",
    "title": "tieu_de",
    "filecode": "ma_ho_so",
    "mahs": "ma_ho_so",
    "maintenance": "thoi_han_bao_quan",
    "thoihan": "thoi_han_bao_quan",
    "rights": "che_do_su_dung",
    "confidencelevel": "muc_do_tin_cay",
    "thoigianbatdau": "ngay_bat_dau",
    "startdate": "ngay_bat_dau",
    "thoigianketthuc": "ngay_ket_thuc",
    "enddate": "ngay_ket_thuc",
    "keyword": "tu_khoa",
    "tukhoa": "tu_khoa",
    "tongsovanbantronghoso": "so_luong_van_ban",
    "doctotal": "so_luong_van_ban",
    "tongsotrangcuahoso": "so_luong_trang",
    "pagetotal": "so_luong_trang",
    "description": "ghi_chu",
    "creator": "nguoi_lap",
}
_BY_KEY = {header_key(c): c for c in COLUMNS} | ALIASES


def find_dossier_list(payload: Path) -> Path | None:
    for suffix in READERS:
        candidate = payload / f"{DOSSIER_STEM}{suffix}"
        if candidate.is_file():
            return candidate
    return None


@dataclass
class DossierRow:
    line: int
    values: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)


def read_dossier_list(path: Path) -> tuple[list[DossierRow], list[str]]:
    """Rows of ``ho_so.csv|jsonl|xlsx`` under the contract's column names; unknown columns kept as extra."""
    warnings: list[str] = []
    raw_rows, legacy = fix_legacy_rows(list(READERS[path.suffix.lower()](path, warnings)))
    if legacy:
        warnings.append(f"Danh mục hồ sơ: {conversion_note(legacy)} (phông chữ cũ)")
    rows = []
    for line, raw in enumerate(raw_rows, start=1):
        values: dict[str, str] = {}
        extra: dict[str, str] = {}
        for header, value in raw.items():
            if header is None:
                continue
            text = "" if value is None else str(value).strip()
            column = _BY_KEY.get(header_key(header))
            if column is None:
                if text:
                    extra[str(header).strip()] = text
            elif text and not values.get(column):
                values[column] = text
        rows.append(DossierRow(line, values, extra))
    return rows, warnings
