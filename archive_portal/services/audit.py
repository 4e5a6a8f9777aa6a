"""The audit trail: append-only, hash-chained records of sign-ins, reads and admin actions.

Every record carries an HMAC-SHA-256, keyed by a secret kept outside the
database (``audit_keys``), of a canonical JSON of its own fields plus the hash
of the record before it, so a record changed or deleted afterwards breaks the
chain at that point, and nobody without the key can re-hash the rest
(``verify``); signed checkpoints in a file outside the database catch the
deletion of the newest records too. Records written before the key existed
keep their plain SHA-256 and still verify.  Appending takes the chain's
lock first (SQLite: ``BEGIN IMMEDIATE``, or the write lock the caller's
transaction already holds; PostgreSQL: a transaction-scoped advisory lock),
so two processes writing at once queue instead of forking the chain.

Call ``record`` with an ``Archive`` (the record gets a transaction of its
own) or with a ``Session`` (the record commits or rolls back with the
caller's change, e.g. an account created by an admin).

One module, just over 400 lines on purpose: appending, the HMAC chain and its verification
must agree on one canonical form of a record; keys live in ``audit_keys``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from archive_core.cells import csv_writer
from archive_core.clock import format_local, local_zone, utcnow, zone_label
from archive_core.clock import to_local as to_local  # re-exported: views read times through services
from archive_core.db.models import AuditEvent
from archive_core.errors import UserError

from .audit_keys import AuditKey, append_checkpoints, create_key, load_key, read_checkpoints

GENESIS = "0" * 64
ADVISORY_LOCK_KEY = 0x41554449  # "AUDI": PostgreSQL advisory lock of the chain
_PENDING = "audit_checkpoints_pending"  # Session.info: checkpoints to write once the transaction commits

# What the trail shows for each action (Vietnamese labels of the portal).
ACTION_LABELS: dict[str, str] = {
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập thất bại",
    "logout": "Đăng xuất",
    "search": "Tìm kiếm",
    "document_view": "Xem văn bản",
    "page_image": "Xem ảnh trang",
    "file_inline": "Xem tệp trong trình duyệt",
    "file_download": "Tải tệp",
    "api_search": "API: tìm kiếm",
    "api_document": "API: xem văn bản",
    "api_text": "API: nội dung văn bản",
    "api_file_download": "API: tải tệp",
    "api_units": "API: đơn vị",
    "api_token_create": "Cấp mã truy cập API",
    "api_token_revoke": "Thu hồi mã truy cập API",
    "api_token_list": "Xem danh sách mã truy cập API",
    "package_report_view": "Xem báo cáo nạp gói",
    "package_report_download": "Tải báo cáo nạp gói",
    "handover_view": "Xem biên bản bàn giao",
    "handover_download": "Tải biên bản bàn giao",
    "units_view": "Xem bảng sắp xếp đơn vị",
    "units_preview": "Xem trước bảng sắp xếp đơn vị",
    "login_throttled": "Đăng nhập bị chặn tạm thời (quá nhiều lần)",
    "login_csrf_failed": "Đăng nhập bị từ chối (biểu mẫu không hợp lệ)",
    "oai_harvest": "Thu thập OAI-PMH",
    "audit_view": "Xem nhật ký",
    "audit_export": "Xuất nhật ký CSV",
    "units_import": "Nạp bảng sắp xếp đơn vị",
    "ingest": "Nạp gói dữ liệu",
    "account_create": "Tạo tài khoản",
    "account_disable": "Khóa tài khoản",
    "account_enable": "Mở khóa tài khoản",
    "account_expire": "Đặt hạn tài khoản",
    "account_password_reset": "Đặt lại mật khẩu",
    "account_password_change": "Đổi mật khẩu",
    "account_bulk_create": "Tạo tài khoản hàng loạt",
    "account_status": "Đổi trạng thái tài khoản",
}

MAX_TARGET = 300
MAX_CLIENT = 64


def _default_client() -> str:
    """The client address of the current web request ('' outside one).

    ``X-Forwarded-For`` is honoured only through ``ProxyFix`` when
    ``ARCHIVE_TRUSTED_PROXIES`` is set, so ``remote_addr`` is already right.
    """
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover
        return ""
    return (request.remote_addr or "") if has_request_context() else ""


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _fields(event: AuditEvent) -> dict[str, Any]:
    at = event.at
    return {
        "id": event.id,
        "at": at.isoformat(timespec="microseconds") if isinstance(at, datetime) else str(at),
        "action": event.action,
        "username": event.username or "",
        "new_unit_code": event.new_unit_code or "",
        "client_address": event.client_address or "",
        "target": event.target or "",
        "details": event.details if event.details is not None else {},
    }


def compute_hash(event: AuditEvent, prev_hash: str, key: AuditKey | None = None) -> str:
    """HMAC-SHA-256 with the trail's key (plain SHA-256 for records older than the key) over the
    canonical JSON of the record's fields and the previous record's hash."""
    payload = _fields(event)
    payload["prev_hash"] = prev_hash
    if key is not None and (event.id or 0) > key.legacy_until:
        return key.mac(_canonical(payload))
    return hashlib.sha256(_canonical(payload)).hexdigest()


def _key_files(session: Session) -> tuple[Path, Path] | None:
    """The key and checkpoint files of the archive this session belongs to (None: a bare database)."""
    archive = session.info.get("archive")
    if archive is None:
        return None
    return archive.settings.audit_key_file, archive.settings.audit_checkpoint_file


def _write_checkpoints(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        path, key, records = pending
        append_checkpoints(path, key, records)


def _forget_checkpoints(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _checkpoint_after_commit(session: Session, path: Path, key: AuditKey, record_id: int, record_hash: str) -> None:
    """The record's checkpoint is written once its transaction has committed (never for a rolled-back one)."""
    if _PENDING not in session.info:
        session.info[_PENDING] = (path, key, [])
        if not sa_event.contains(session, "after_commit", _write_checkpoints):
            sa_event.listen(session, "after_commit", _write_checkpoints)
            sa_event.listen(session, "after_soft_rollback", lambda s, _t: _forget_checkpoints(s))
    session.info[_PENDING][2].append((record_id, record_hash))


def _lock_chain(session: Session) -> None:
    """Serialise writers of the chain for the rest of the caller's transaction."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        raw = connection.connection.dbapi_connection
        assert raw is not None  # a live pooled connection
        # pysqlite begins a transaction only at the first write; if none has begun,
        # take the write lock now. If one has, this connection already holds it.
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def _who(account: Any, username: str | None, new_unit_code: str | None) -> tuple[str, str]:
    name = username if username is not None else (getattr(account, "username", "") or "")
    unit = new_unit_code if new_unit_code is not None else (getattr(account, "new_unit_code", "") or "")
    return name[:150], unit[:32]


_TABLE = cast(Table, AuditEvent.__table__)
_INSERT = _TABLE.insert()
_COLUMNS = tuple(column.key for column in _TABLE.columns)
_LAST = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


def _append(
    session: Session, action: str, username: str, unit: str, client: str, target: str, details: dict
) -> AuditEvent:
    _lock_chain(session)
    last = session.execute(_LAST).first()
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    files = _key_files(session)
    key = None
    if files is not None:
        key, new = create_key(files[0], legacy_until=prev_id)  # under the chain's lock: the boundary is exact
        if new and prev_id:
            _checkpoint_after_commit(session, files[1], key, prev_id, prev_hash)  # pins the older stretch
    event = AuditEvent(
        id=prev_id + 1,
        at=utcnow(),
        action=action[:64],
        username=username,
        new_unit_code=unit,
        client_address=client[:MAX_CLIENT],
        target=target[:MAX_TARGET],
        # Stored exactly as hashed: a round trip through JSON leaves nothing the database would change.
        details=json.loads(_canonical(details or {})),
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(event, prev_hash, key)
    # Inserted as a row, not flushed as an object: the unit of work cost a search request ~1 ms, and
    # nothing reads the record back in the request (the next record's select sees it on this connection).
    session.execute(_INSERT, {name: getattr(event, name) for name in _COLUMNS})
    if files is not None and key is not None:
        _checkpoint_after_commit(session, files[1], key, event.id, event.hash)
    return event


def record(
    archive_or_session: Any,
    action: str,
    *,
    account: Any = None,
    username: str | None = None,
    new_unit_code: str | None = None,
    target: str = "",
    details: dict | None = None,
    client: str | None = None,
) -> None:
    """Append one record to the trail.

    ``account`` is anything with ``username`` and ``new_unit_code`` (an ``Account``
    or the portal's signed-in user); ``username``/``new_unit_code`` override it
    (e.g. the name typed at a failed sign-in). ``client`` defaults to the web
    request's address.
    """
    name, unit = _who(account, username, new_unit_code)
    address = client if client is not None else _default_client()
    if isinstance(archive_or_session, Session):
        _append(archive_or_session, action, name, unit, address, str(target), dict(details or {}))
        return
    with archive_or_session.db.transaction() as session:
        _append(session, action, name, unit, address, str(target), dict(details or {}))


# -- verification -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainProblem:
    id: int
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    records: int
    last_hash: str
    problem: ChainProblem | None
    checkpoints: int = 0  # signed checkpoints found intact
    keyed: bool = False  # the chain is checked with the key (else: plain SHA-256 only)

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(session: Session, batch: int = 2000) -> VerifyResult:
    """Walk the chain in id order, then the checkpoints: the first record whose hash, link or
    position is wrong, or that a checkpoint saw and the database no longer has as it was."""
    files = _key_files(session)
    key = load_key(files[0]) if files is not None else None
    if files is not None and key is None and files[1].exists():
        return VerifyResult(
            0, GENESIS, ChainProblem(0, f"mất khóa nhật ký {files[0]} (có mốc kiểm tra nhưng không có khóa)")
        )
    chain = _verify_chain(session, key, batch)
    if chain.problem is not None or key is None or files is None:
        return chain
    return _verify_checkpoints(session, files[1], key, chain)


def _verify_chain(session: Session, key: AuditKey | None, batch: int) -> VerifyResult:
    prev_hash, expected_id, count, last_id = GENESIS, 1, 0, 0
    keyed = key is not None
    while True:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not events:
            return VerifyResult(count, prev_hash, None, keyed=keyed)
        for event in events:
            if event.id != expected_id:
                return VerifyResult(
                    count,
                    prev_hash,
                    ChainProblem(event.id, f"thiếu bản ghi #{expected_id}–#{event.id - 1} (đã bị xóa)"),
                    keyed=keyed,
                )
            if event.prev_hash != prev_hash:
                return VerifyResult(
                    count,
                    prev_hash,
                    ChainProblem(event.id, "liên kết tới bản ghi trước không khớp (bản ghi trước đã bị sửa hoặc xóa)"),
                    keyed=keyed,
                )
            if compute_hash(event, prev_hash, key) != event.hash:
                return VerifyResult(
                    count,
                    prev_hash,
                    ChainProblem(event.id, "nội dung đã bị sửa hoặc tính lại hash (không khớp khóa nhật ký)"),
                    keyed=keyed,
                )
            prev_hash, expected_id, count, last_id = event.hash, event.id + 1, count + 1, event.id
        session.expunge_all()


def _verify_checkpoints(session: Session, path: Path, key: AuditKey, chain: VerifyResult) -> VerifyResult:
    checkpoints = read_checkpoints(path, key)
    if chain.records > key.legacy_until and not checkpoints:
        return replace(chain, problem=ChainProblem(0, f"mất tệp mốc kiểm tra {path}"))
    by_id: dict[int, str] = {}
    for point in checkpoints:
        if not point.signed:
            return replace(
                chain,
                problem=ChainProblem(
                    point.id, f"mốc kiểm tra dòng {point.line} của {path.name} không có chữ ký hợp lệ"
                ),
            )
        by_id[point.id] = point.hash
    intact = 0
    ids = sorted(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stored = dict(session.execute(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))).all())
        for rid in chunk:
            if rid not in stored:
                return replace(chain, problem=ChainProblem(rid, "bản ghi đã có mốc kiểm tra nay không còn (đã bị xóa)"))
            if stored[rid] != by_id[rid]:
                return replace(chain, problem=ChainProblem(rid, "bản ghi khác với mốc kiểm tra (đã bị sửa)"))
            intact += 1
    return replace(chain, checkpoints=intact)


# -- times: stored in UTC, shown and typed in local time (ARCHIVE_TIMEZONE, Hà Nội by default) -------
_DATETIME_RE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?\s*$")


def parse_local_datetime(text: str, *, end: bool = False) -> datetime | None:
    """``dd/mm/yyyy`` or ``dd/mm/yyyy HH:MM`` typed in Vietnam time, as naive UTC; None if empty.

    With ``end``, the last moment of that day (or minute), so a range includes it.
    Raises ``UserError`` (a ``ValueError``; Vietnamese message) for anything else.
    """
    text = (text or "").strip()
    if not text:
        return None
    match = _DATETIME_RE.match(text)
    try:
        if not match:
            raise ValueError
        day, month, year, hour, minute = match.groups()
        local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=local_zone())
    except ValueError:
        raise UserError(f"“{text[:40]}” không phải thời điểm dạng dd/mm/yyyy hoặc dd/mm/yyyy HH:MM") from None
    if end:
        local += timedelta(minutes=1) if match.group(4) else timedelta(days=1)
        local -= timedelta(microseconds=1)
    return local.astimezone(UTC).replace(tzinfo=None)


# -- browsing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    new_unit_code: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _where(stmt, flt: AuditFilter):
    if flt.username:
        stmt = stmt.where(AuditEvent.username == flt.username.strip().lower())
    if flt.new_unit_code:
        stmt = stmt.where(AuditEvent.new_unit_code == flt.new_unit_code.strip())
    if flt.action:
        stmt = stmt.where(AuditEvent.action == flt.action)
    if flt.since is not None:
        stmt = stmt.where(AuditEvent.at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEvent.at <= flt.until)
    return stmt


def browse(session: Session, flt: AuditFilter, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of the trail, newest first."""
    page = max(1, min(page, 100_000))
    total = session.scalar(_where(select(func.count()).select_from(AuditEvent), flt)) or 0
    events = session.scalars(
        _where(select(AuditEvent), flt).order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return AuditPage(list(events), total, page, per_page)


CSV_COLUMNS = (
    "id",
    "thoi_gian",
    "hanh_dong",
    "mo_ta",
    "tai_khoan",
    "don_vi_moi",
    "dia_chi",
    "doi_tuong",
    "chi_tiet",
    "hash_truoc",
    "hash",
)


def _iter_filtered(session: Session, flt: AuditFilter, batch: int = 2000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        events = session.scalars(
            _where(select(AuditEvent), flt).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not events:
            return
        yield from events
        last_id = events[-1].id
        session.expunge_all()


def export_csv(session: Session, flt: AuditFilter) -> Iterable[str]:
    """The filtered trail as CSV text chunks (UTF-8 with BOM so spreadsheet programs read Vietnamese)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)  # a failed sign-in's user name is anyone's text: no formulas
    yield "\ufeff"
    writer.writerow([f"thoi_gian ({zone_label()})" if c == "thoi_gian" else c for c in CSV_COLUMNS])
    for event in _iter_filtered(session, flt):
        writer.writerow(
            [
                event.id,
                format_local(event.at, seconds=True),
                event.action,
                ACTION_LABELS.get(event.action, event.action),
                event.username,
                event.new_unit_code,
                event.client_address,
                event.target,
                json.dumps(event.details or {}, ensure_ascii=False),
                event.prev_hash,
                event.hash,
            ]
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
