"""Saved searches (a table the account writes for itself) and recent searches (read from its audit trail).

Recent searches need no write at all: every search is already in the audit trail with its
query and filters, so the last distinct ones are read back from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive_core.clock import to_local
from archive_core.db.models import AuditEvent, SavedSearch
from archive_core.errors import UserError

from .search import parse_params

MAX_SAVED = 50  # per account
MAX_NAME = 200
RECENT = 10
RECENT_SCAN = 200  # audit records looked at for the recent list


@dataclass(frozen=True)
class SearchLink:
    id: int | None
    name: str
    args: dict[str, Any]
    summary: str
    at: str


def _clean_args(params: Mapping[str, Any]) -> dict[str, Any]:
    return parse_params(params).to_args(page="")


def summary(args: Mapping[str, Any]) -> str:
    parts = []
    if args.get("q"):
        parts.append(f"“{args['q']}”")
    labels = {
        "unit": "đơn vị",
        "type": "loại",
        "direction": "hướng",
        "from": "từ ngày",
        "to": "đến ngày",
        "number": "số",
        "ho_so": "hồ sơ",
        "sort": "sắp xếp",
        "chu_ky": "chữ ký",
    }
    for key, label in labels.items():
        value = args.get(key)
        if value:
            parts.append(f"{label} {', '.join(value) if isinstance(value, list) else value}")
    return "; ".join(parts) or "tất cả văn bản"


def _when(at: datetime | None) -> str:
    return to_local(at).strftime("%H:%M %d/%m/%Y") if at else ""


def save(session: Session, account_id: int, name: str, params: Mapping[str, Any]) -> SavedSearch:
    """Keep the search in ``params`` under ``name`` for the account; refuses an empty search or too many."""
    args = _clean_args(params)
    if not args:
        raise UserError("Không có gì để lưu: hãy nhập từ khóa hoặc điều kiện tìm kiếm trước.")
    count = session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.account_id == account_id))
    if (count or 0) >= MAX_SAVED:
        raise UserError(f"Mỗi tài khoản lưu tối đa {MAX_SAVED} tìm kiếm; hãy xóa bớt tìm kiếm cũ.")
    clean_name = " ".join((name or "").split())[:MAX_NAME] or summary(args)[:MAX_NAME]
    saved = SavedSearch(account_id=account_id, name=clean_name, args=args)
    session.add(saved)
    session.flush()
    return saved


def delete(session: Session, account_id: int, search_id: int) -> bool:
    """Delete one of the account's own saved searches; False if it has none with that id."""
    found = session.get(SavedSearch, search_id) if 0 < search_id < 2**63 else None
    if found is None or found.account_id != account_id:
        return False
    session.delete(found)
    session.flush()
    return True


def saved(session: Session, account_id: int) -> list[SearchLink]:
    rows = session.scalars(
        select(SavedSearch)
        .where(SavedSearch.account_id == account_id)
        .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
    )
    return [SearchLink(s.id, s.name, dict(s.args or {}), summary(s.args or {}), _when(s.created_at)) for s in rows]


def recent(session: Session, username: str, limit: int = RECENT) -> list[SearchLink]:
    """The account's last distinct searches, from its audit trail (newest first)."""
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.details)
        .where(AuditEvent.action == "search", AuditEvent.username == username)
        .order_by(AuditEvent.id.desc())
        .limit(RECENT_SCAN)
    ).all()
    out: list[SearchLink] = []
    seen: set[str] = set()
    for at, details in rows:
        if not isinstance(details, dict) or details.get("error"):
            continue
        raw = details.get("filters")
        filters: dict[str, Any] = raw if isinstance(raw, dict) else {}
        args = _clean_args({**filters, "q": str(details.get("q") or "")})
        key = repr(sorted(args.items()))
        if not args or key in seen:
            continue
        seen.add(key)
        out.append(SearchLink(None, summary(args), args, summary(args), _when(at)))
        if len(out) >= limit:
            break
    return out
