"""Display helpers shared by pages, the API and the services: dates, labels."""

from __future__ import annotations

import re
from datetime import date, datetime

from archive_core.clock import format_local, local_date, to_local, utcnow, zone_label
from archive_core.errors import UserError

from .roles import ADMIN, ARCHIVIST, AUDITOR, LOOKUP

DIRECTION_LABELS: dict[str, str] = {"den": "Đến", "di": "Đi", "noi_bo": "Nội bộ"}

ROLE_LABELS: dict[str, str] = {
    ADMIN: "Quản trị",
    ARCHIVIST: "Lưu trữ viên",
    AUDITOR: "Kiểm tra",
    LOOKUP: "Tra cứu",
}

FIELD_LABELS: dict[str, str] = {
    "ma_van_ban": "Mã văn bản",
    "direction": "Hướng văn bản",
    "number": "Số, ký hiệu",
    "issued_date": "Ngày ban hành",
    "doc_type": "Loại văn bản",
    "subject": "Trích yếu",
    "issuer": "Cơ quan ban hành",
    "signer": "Người ký",
    "signer_title": "Chức vụ người ký",
    "recipients": "Nơi nhận",
    "confidentiality": "Độ mật",
    "urgency": "Độ khẩn",
    "dossier": "Mã hồ sơ",
    "page_count": "Số trang",
    "remarks": "Ghi chú",
}

SOURCE_LABELS: dict[str, str] = {
    "manifest": "Danh mục",
    "text": "Đọc từ nội dung",
    "edxml": "Gói edXML",
    "file": "Tệp",
}

PAGE_METHOD_LABELS: dict[str, str] = {"text": "Lớp chữ", "ocr": "Nhận dạng (OCR)", "none": "Không có chữ"}

_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def format_date(value: date | datetime | None, empty: str = "") -> str:
    """dd/mm/yyyy (with hh:mm for datetimes), or ``empty`` when there is no date."""
    if value is None:
        return empty
    if isinstance(value, datetime):
        return format_local(value)  # stored UTC, read in Hà Nội time
    return value.strftime("%d/%m/%Y")


def local_stamp() -> str:
    """Now in local time as ``yyyymmdd-HHMM``, for names of exported files."""
    return to_local(utcnow()).strftime("%Y%m%d-%H%M")


def format_day(value: date | datetime | None, empty: str = "") -> str:
    """The local day (dd/mm/yyyy) of a date or of a stored UTC time, such as an expiry."""
    return format_date(local_date(value), empty)


def format_time_zoned(value: datetime | str | None, empty: str = "") -> str:
    """A time that is evidence (audit, tokens, accounts): local, with seconds and the zone named.

    Also takes the ISO text of a stored time (reports keep times as JSON).
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if value else None
    return format_local(value, seconds=True, zone=True, empty=empty)


def parse_user_date(text: str) -> date | None:
    """A date typed by a user: ``dd/mm/yyyy`` (also ``-`` or ``.``) or ISO; None if empty.

    Raises ``UserError`` (a ``ValueError``) with a Vietnamese message when the text is not a real date.
    """
    text = (text or "").strip()
    if not text:
        return None
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _ISO.match(text)
        if not match:
            raise UserError(f"Ngày “{text[:30]}” không hợp lệ: hãy nhập theo dạng dd/mm/yyyy.")
        year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise UserError(f"Ngày “{text[:30]}” không tồn tại.") from None


def format_count(value: int) -> str:
    """A count the Vietnamese way, dots between thousands: 10000 -> "10.000"."""
    return f"{int(value):,}".replace(",", ".")


def direction_label(value: str) -> str:
    return DIRECTION_LABELS.get(value or "", value or "")


def source_label(value: str) -> str:
    return SOURCE_LABELS.get(value or "", value or "")


def now_zoned() -> str:
    """Now, as a printed record states it (local time, zone named)."""
    return format_time_zoned(utcnow())


def zone_name() -> str:
    """The zone named beside times (``giờ Việt Nam, GMT+7``), for table headings."""
    return zone_label()
