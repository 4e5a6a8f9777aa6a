"""Export of a search's results: the columns the results page shows, as XLSX (openpyxl) or CSV.

The same search as the page (the account's scope is part of the query), read in
pages of the engine's largest size up to ``EXPORT_CAP`` rows; when the search
finds more, the file says so in words. Every cell goes through
``archive_core.cells`` so a subject beginning with "=" stays text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from archive_core.cells import csv_writer, safe_row
from archive_core.clock import to_local, utcnow
from archive_core.context import Archive
from indexes.query import MAX_PER_PAGE

from .formatting import format_count
from .search import HitView, SearchParams, hydrate, parse_params, search_query

EXPORT_CAP = 5_000  # rows in one export; the file says when the search found more
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
COLUMNS = (
    "STT",
    "Số, ký hiệu",
    "Ngày ban hành",
    "Trích yếu",
    "Loại văn bản",
    "Hướng",
    "Cơ quan ban hành",
    "Đơn vị cũ",
    "Mã đơn vị",
    "Mã văn bản",
    "Đường dẫn",
)


@dataclass
class Export:
    params: SearchParams
    hits: list[HitView] = field(default_factory=list)
    total: int = 0
    cap: int = EXPORT_CAP
    total_is_lower_bound: bool = False  # the engine counted a sample: "hơn 450.000"

    @property
    def cut(self) -> bool:
        return self.total > len(self.hits) or (self.total_is_lower_bound and len(self.hits) >= self.cap)

    @property
    def note(self) -> str:
        found = ("hơn " if self.total_is_lower_bound else "") + format_count(self.total)
        if self.cut:
            return (
                f"Chỉ xuất {format_count(len(self.hits))} văn bản đầu tiên trên tổng số {found} văn bản tìm thấy "
                f"(giới hạn {format_count(self.cap)} dòng mỗi lần xuất); hãy thu hẹp điều kiện tìm kiếm để xuất "
                "phần còn lại."
            )
        return f"Đủ {found} văn bản tìm thấy."


def collect(
    session: Session, archive: Archive, scope: frozenset[str] | None, params: Mapping[str, Any], cap: int | None = None
) -> Export:
    """The search's results in order, at most ``cap``; raises the user's errors (bad dates, too long…)."""
    cap = EXPORT_CAP if cap is None else cap
    parsed = parse_params(params)
    out = Export(params=parsed, cap=cap)
    page = 1
    while len(out.hits) < cap:
        query = replace(
            search_query(archive, scope, parsed, page=page, per_page=MAX_PER_PAGE), with_snippets=False, facets=()
        )
        result = archive.engine.search(query)
        if page == 1:
            out.total, out.total_is_lower_bound = result.total, result.total_is_lower_bound
        hits, dropped = hydrate(session, result.hits, scope)
        out.total -= dropped
        out.hits.extend(hits[: cap - len(out.hits)])
        if out.total_is_lower_bound:  # a sample's lower bound never below what is in hand
            out.total = max(out.total, len(out.hits))
        if len(result.hits) < MAX_PER_PAGE:
            if out.total_is_lower_bound:  # every match is in hand: the count is exact after all
                out.total, out.total_is_lower_bound = len(out.hits), False
            break
        page += 1
    return out


def _rows(export: Export, base_url: str) -> list[list[Any]]:
    return [
        [
            i,
            h.number,
            h.issued_date_display,
            h.subject,
            h.doc_type,
            h.direction_label,
            h.issuer,
            h.unit_name,
            h.unit_code,
            h.ma_van_ban,
            f"{base_url}/van-ban/{h.id}",
        ]
        for i, h in enumerate(export.hits, start=1)
    ]


def describe(params: SearchParams) -> str:
    parts = [f"từ khóa “{params.q}”"] if params.q else ["tất cả văn bản được xem"]
    if params.number:
        parts.append(f"số ký hiệu “{params.number}”")
    if params.date_from_text or params.date_to_text:
        parts.append(f"ngày {params.date_from_text or '…'} – {params.date_to_text or '…'}")
    return "Kết quả tra cứu: " + ", ".join(parts)


def stamp_now() -> tuple[str, str]:
    """(the time for the file, the time for its name), Hà Nội time."""
    now = to_local(utcnow())
    return now.strftime("%H:%M %d/%m/%Y (giờ Hà Nội)"), now.strftime("%Y%m%d-%H%M")


def to_xlsx(export: Export, base_url: str, made_at: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Kết quả tra cứu"
    sheet.append(safe_row([describe(export.params)]))
    sheet.append(safe_row([f"{export.note} Xuất lúc {made_at}."]))
    sheet.append(list(COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    if export.cut:
        sheet["A2"].font = Font(bold=True, color="B00000")
    for row in _rows(export, base_url):
        sheet.append(safe_row(row))
    for letter, width in zip("ABCDEFGHIJK", (6, 18, 12, 60, 16, 10, 28, 28, 10, 18, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(export: Export, base_url: str) -> bytes:
    """A header row, one row per document, and when cut a last row saying so (UTF-8 with BOM for Excel)."""
    text = io.StringIO()
    writer = csv_writer(text)
    writer.writerow(COLUMNS)
    for row in _rows(export, base_url):
        writer.writerow(row)
    if export.cut:
        writer.writerow([export.note])
    return ("\ufeff" + text.getvalue()).encode("utf-8")
