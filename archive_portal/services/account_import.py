"""Bulk creation of lookup accounts from a list of officials (CSV or XLSX).

One row per official: name, username, new unit (code or exact name), email,
expiry (dd/mm/yyyy; empty = one year).  The import creates **lookup accounts only**:
a row whose role column names another role is refused, unless the caller passed
``allowed_roles`` after showing those roles and having them confirmed (the
separate path ``archive accounts import --with-roles``).  Headers are matched
with or without diacritics (``Họ và tên`` = ``ho va ten`` = ``name``).  Each row
is created in a savepoint of its own: a bad row is reported and the others
go on.  The result lists each row with its initial password, to print once
and hand over; the passwords are stored nowhere else.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_core.cells import csv_writer
from archive_core.clock import local_date, local_today
from archive_core.db.models import NewUnit
from archive_core.errors import UserError

from .accounts import AccountError, create_account
from .formatting import format_date, parse_user_date
from .roles import ADMIN, ARCHIVIST, AUDITOR, LOOKUP, ROLES

MAX_ROWS = 5000

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "display_name": ("ho va ten", "ho ten", "ten can bo", "can bo", "ten", "name", "full name", "display name"),
    "username": ("ten dang nhap", "tai khoan", "ten tai khoan", "username", "user", "login"),
    "new_unit": ("don vi moi", "ma don vi moi", "ma don vi", "don vi", "new unit", "unit", "new unit code"),
    "email": ("email", "e mail", "thu dien tu", "dia chi email", "mail"),
    "expires": ("ngay het han", "het han", "han su dung", "thoi han", "expiry", "expires", "expires at"),
    "role": ("vai tro", "role"),
}


ROLE_WORDS = {
    "tra cuu": LOOKUP,
    "luu tru vien": ARCHIVIST,
    "luu tru": ARCHIVIST,
    "quan tri": ADMIN,
    "kiem tra": AUDITOR,
    "": LOOKUP,
}


ROLE_LABELS = {LOOKUP: "Tra cứu", ARCHIVIST: "Lưu trữ viên", ADMIN: "Quản trị", AUDITOR: "Kiểm tra"}
LOOKUP_ONLY = frozenset({LOOKUP})


def row_role(row: OfficialRow) -> str:
    """The role a row asks for (lookup when the column is empty or absent)."""
    return ROLE_WORDS.get(header_key(row.role), header_key(row.role)) or LOOKUP


def roles_asked(rows: list[OfficialRow]) -> dict[str, list[str]]:
    """Usernames per role other than lookup: what the separate path shows before applying."""
    asked: dict[str, list[str]] = {}
    for row in rows:
        role = row_role(row)
        if role != LOOKUP:
            asked.setdefault(role, []).append(row.username.strip().lower())
    return asked


class ImportFileError(UserError):
    """The list cannot be read at all (format, missing columns); the message is Vietnamese."""


@dataclass
class OfficialRow:
    line: int
    display_name: str = ""
    username: str = ""
    new_unit: str = ""
    email: str = ""
    expires: str = ""
    role: str = LOOKUP


@dataclass
class ImportResult:
    line: int
    username: str
    display_name: str
    new_unit_code: str
    new_unit_name: str
    email: str
    expires_at: datetime | None
    password: str = ""
    error: str = ""
    role: str = LOOKUP

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def header_key(text: str) -> str:
    """``Họ và tên`` → ``ho va ten``: lower case, no diacritics, words separated by one space."""
    text = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _column_for(header: str) -> str | None:
    key = header_key(header)
    for column, aliases in HEADER_ALIASES.items():
        if key in aliases:
            return column
    return None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


def _table_from_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258", errors="replace")
    text = unicodedata.normalize("NFC", text)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text, newline=""), dialect=dialect)]


def _table_from_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # zipfile.BadZipFile, KeyError, InvalidFileException…
        raise ImportFileError("Tệp Excel không đọc được (cần tệp .xlsx).") from error
    try:
        return [[_cell(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_officials(data: bytes, filename: str) -> list[OfficialRow]:
    """The rows of a CSV or XLSX list; the first row is the header."""
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".xlsx" or data[:2] == b"PK":
        table = _table_from_xlsx(data)
    elif suffix in (".csv", ".txt", ""):
        table = _table_from_csv(data)
    else:
        raise ImportFileError("Chỉ nhận danh sách dạng CSV hoặc Excel (.xlsx).")
    if not table:
        raise ImportFileError("Danh sách trống.")
    columns = [_column_for(h) for h in table[0]]
    missing = [
        name for name, label in (("username", "tên đăng nhập"), ("new_unit", "đơn vị mới")) if name not in columns
    ]
    if missing:
        labels = {"username": "Tên đăng nhập", "new_unit": "Đơn vị mới"}
        raise ImportFileError(
            "Thiếu cột: "
            + ", ".join(labels[m] for m in missing)
            + ". Dòng đầu phải là tiêu đề (Họ và tên, Tên đăng nhập, Đơn vị mới, Email, Ngày hết hạn)."
        )
    rows: list[OfficialRow] = []
    for number, values in enumerate(table[1:], start=2):
        if not any(values):
            continue
        row = OfficialRow(line=number)
        for column, value in zip(columns, values, strict=False):
            if column is not None and value:
                setattr(row, column, value)
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise ImportFileError(f"Danh sách quá dài (tối đa {MAX_ROWS} dòng mỗi lần).")
    return rows


def _unit_lookup(session: Session) -> tuple[dict[str, NewUnit], dict[str, list[NewUnit]]]:
    units = list(session.scalars(select(NewUnit)))
    by_name: dict[str, list[NewUnit]] = {}
    for unit in units:
        by_name.setdefault(header_key(unit.name), []).append(unit)
    return {u.code: u for u in units}, by_name


def create_from_rows(
    session: Session, rows: list[OfficialRow], allowed_roles: frozenset[str] = LOOKUP_ONLY
) -> list[ImportResult]:
    """Create one account per row (savepoint each); every row gets a result, created or refused.

    Only lookup accounts unless ``allowed_roles`` says otherwise (see the module docstring)."""
    by_code, by_name = _unit_lookup(session)
    results: list[ImportResult] = []
    for row in rows:
        unit = by_code.get(row.new_unit.strip())
        if unit is None:
            named = by_name.get(header_key(row.new_unit), [])
            unit = named[0] if len(named) == 1 else None
        result = ImportResult(
            line=row.line,
            username=row.username.strip().lower(),
            display_name=row.display_name,
            new_unit_code=unit.code if unit else row.new_unit,
            new_unit_name=unit.name if unit else "",
            email=row.email,
            expires_at=None,
        )
        role = row_role(row)
        result.role = role
        try:
            if role not in ROLES:
                raise AccountError(f"Vai trò “{row.role}” không hợp lệ.")
            if role not in allowed_roles:
                raise AccountError(
                    f"Danh sách chỉ tạo tài khoản tra cứu; vai trò “{ROLE_LABELS[role]}” cần bước "
                    "xác nhận riêng (archive accounts import --with-roles)."
                )
            if role == LOOKUP and unit is None:
                raise AccountError(f"Không tìm thấy đơn vị mới “{row.new_unit}” (nhập mã hoặc đúng tên đơn vị).")
            try:
                expires = parse_user_date(row.expires)
            except ValueError as error:
                raise AccountError(str(error)) from None
            if expires is not None and expires <= local_today():
                raise AccountError(f"Ngày hết hạn {format_date(expires)} đã qua.")
            with session.begin_nested():
                account, password = create_account(
                    session,
                    username=row.username,
                    role=role,
                    new_unit_code=unit.code if role == LOOKUP and unit is not None else None,
                    display_name=row.display_name,
                    email=row.email,
                    expires_at=expires,
                )
            result.username, result.expires_at, result.password = account.username, account.expires_at, password
        except AccountError as error:
            result.error = str(error)
        results.append(result)
    return results


def results_csv(results: list[ImportResult]) -> str:
    """The printable list as CSV (UTF-8 with BOM, so Excel shows the Vietnamese right)."""
    out = io.StringIO()
    writer = csv_writer(out)  # names come from the uploaded list: no formulas beside the passwords
    writer.writerow(
        [
            "Dòng",
            "Họ và tên",
            "Tên đăng nhập",
            "Vai trò",
            "Mã đơn vị mới",
            "Đơn vị mới",
            "Email",
            "Ngày hết hạn",
            "Mật khẩu ban đầu",
            "Kết quả",
        ]
    )
    for r in results:
        writer.writerow(
            [
                r.line,
                r.display_name,
                r.username,
                r.role_label,
                r.new_unit_code,
                r.new_unit_name,
                r.email,
                format_date(local_date(r.expires_at)),
                r.password,
                "Đã tạo (đổi mật khẩu khi đăng nhập lần đầu)" if r.ok else f"Không tạo: {r.error}",
            ]
        )
    return "\ufeff" + out.getvalue()
