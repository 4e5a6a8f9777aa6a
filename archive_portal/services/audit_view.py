"""The audit trail as people read it: one Vietnamese sentence per record, links, refusals flagged.

The stored record stays as written (its hash covers it); this only describes it. A read of a
document that was not found in the reader's scope (404), a refused change or sign-in, is
*flagged*: those are what an auditor looks for first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archive_core.clock import format_local
from archive_core.db.models import AuditEvent

from .audit import ACTION_LABELS

EXTRA_LABELS: dict[str, str] = {
    "withheld_list_view": "Xem danh sách văn bản giữ lại",
    "withholding_view": "Xem việc giữ lại một văn bản",
    "document_withhold": "Giữ lại văn bản (không công bố)",
    "document_release": "Công bố lại văn bản đã giữ",
    "document_withhold_refused": "Giữ lại văn bản bị từ chối",
    "document_release_refused": "Công bố lại văn bản bị từ chối",
    "fonds_view": "Xem phông lưu trữ",
    "dossier_view": "Xem hồ sơ",
}
REFUSED_ACTIONS = {"login_failed", "login_throttled", "login_csrf_failed"}
_TARGET_PART = re.compile(r"(van-ban|tep|trang|goi|don-vi|phien-ban):([^/]*)")
_PART_LABELS = {
    "van-ban": "văn bản",
    "tep": "tệp",
    "trang": "trang",
    "goi": "gói",
    "don-vi": "đơn vị",
    "phien-ban": "phiên bản bảng đơn vị",
}


@dataclass(frozen=True)
class Link:
    kind: str  # "document" | "package"
    id: int
    text: str


@dataclass(frozen=True)
class EventLine:
    id: int
    at: str
    username: str
    new_unit_code: str
    client_address: str
    action: str
    label: str
    description: str
    flag: str  # "" or why the record is flagged (a refusal)
    link: Link | None = None
    details: dict[str, Any] = field(default_factory=dict)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or EXTRA_LABELS.get(action) or action.replace("_", " ")


def _target(target: str) -> tuple[str, Link | None]:
    parts = dict(_TARGET_PART.findall(target or ""))
    if not parts:
        return (target or ""), None
    text = ", ".join(f"{_PART_LABELS[k]} {v}" for k, v in parts.items())
    link = None
    if parts.get("van-ban", "").isdigit():
        link = Link("document", int(parts["van-ban"]), f"Văn bản #{parts['van-ban']}")
    elif parts.get("goi", "").isdigit():
        link = Link("package", int(parts["goi"]), f"Gói #{parts['goi']}")
    return text, link


def _flag(event: AuditEvent, details: dict[str, Any]) -> str:
    if event.action in REFUSED_ACTIONS or event.action.endswith("_refused"):
        return "Bị từ chối"
    if details.get("refused"):
        return "Bị từ chối"
    if details.get("found") is False:
        if event.action in ("document_view", "page_image", "file_inline", "file_download") or event.action.startswith(
            "api_"
        ):
            return "Ngoài phạm vi hoặc không có"
        return "Không có"
    if details.get("error"):
        return "Lỗi"
    return ""


def _details_text(event: AuditEvent, details: dict[str, Any]) -> str:
    bits: list[str] = []
    if event.action in ("search", "api_search"):
        q = details.get("q") or ""
        bits.append(f"“{q}”" if q else "không có từ khóa")
        filters = details.get("filters") or {}
        if filters:
            bits.append("lọc: " + ", ".join(f"{k}={v}" for k, v in filters.items()))
        if "total" in details:
            bits.append(f"{details['total']} kết quả")
    if details.get("number"):
        bits.append(f"số {details['number']}")
    if details.get("filename"):
        bits.append(f"tệp “{details['filename']}”" + (" (bản có dấu)" if details.get("stamped") else ""))
    if details.get("refused"):
        bits.append(f"lý do: {details['refused']}")
    if details.get("reason"):
        bits.append(f"lý do: {details['reason']}")
    if details.get("via") == "token":
        bits.append("qua mã truy cập API")
    return "; ".join(str(b) for b in bits)


def describe(event: AuditEvent) -> EventLine:
    """One record as a line of the readable log."""
    details = event.details if isinstance(event.details, dict) else {}
    target_text, link = _target(event.target or "")
    label = action_label(event.action)
    description = " — ".join(x for x in (target_text, _details_text(event, details)) if x)
    return EventLine(
        id=event.id,
        at=format_local(event.at, seconds=True),
        username=event.username or "",
        new_unit_code=event.new_unit_code or "",
        client_address=event.client_address or "",
        action=event.action,
        label=label,
        description=description,
        flag=_flag(event, details),
        link=link,
        details=details,
    )


def describe_all(events: list[AuditEvent]) -> list[EventLine]:
    return [describe(e) for e in events]
