"""Provisioning: admin pages and CLI create, disable, re-enable, expire, extend, reset and bulk-create accounts;
the password policy; the forced change at first login."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from archive_portal.cli import main as cli
from archive_core.db.models import Account, AuditEvent
from archive_core.clock import local_today, utcnow
from archive_portal.services.password_policy import generate_password, password_problems
from fake_clock import faked_now  # noqa: F401  (ARCHIVE_TEST_FAKE_NOW: a faked 23:30 UTC)
from portal_helpers import PASSWORD, csrf_token, login

NEW_PASSWORD = "Doi-Mat-Khau-2025!"
_addresses = iter(range(1, 250))


def _client(app):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = f"10.45.0.{next(_addresses)}"
    return c


def _post(client, page: str, url: str, data: dict, **kwargs):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def _account(world, username: str) -> Account:
    with world.archive.db.session() as s:
        return s.query(Account).filter_by(username=username).one()


def _passwords(html: str) -> list[str]:
    return re.findall(r'<code class="password">([^<]+)</code>', html)


def _create(as_admin, **fields):
    data = {"display_name": "", "email": "", "role": "lookup", "new_unit": "", "expires": "", **fields}
    return _post(as_admin, "/quan-tri/tai-khoan/", "/quan-tri/tai-khoan/", data)


def _change_password(client, current: str, new: str, confirm: str | None = None):
    return _post(client, "/doi-mat-khau", "/doi-mat-khau",
                 {"current": current, "new": new, "confirm": new if confirm is None else confirm})


# -- the password policy ----------------------------------------------------------------------------

@pytest.mark.parametrize("password,username,expected", [
    ("Ngan-1", "", "ít nhất 10 ký tự"),
    ("nguyenvana-2025X", "nguyenvana", "không được chứa tên đăng nhập"),
    ("matkhau123", "", "quá phổ biến"),
    ("Password123", "", "quá phổ biến"),
    ("chuthuongdai", "", "kết hợp chữ thường, chữ hoa"),
    ("abcdefghijklmnopq", "", "kết hợp chữ thường, chữ hoa"),  # long but one class
])
def test_password_policy_refuses_with_a_vietnamese_reason(password, username, expected):
    assert any(expected in p for p in password_problems(password, username))


@pytest.mark.parametrize("password", ["Kho-Luu-Tru9", "mot cau mat khau dai de nho", NEW_PASSWORD, PASSWORD])
def test_password_policy_accepts_strong_passwords_and_passphrases(password):
    assert password_problems(password, "nguyenvana") == []


def test_generated_passwords_pass_the_policy_and_differ():
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(password_problems(p) == [] for p in passwords)


# -- admin pages ------------------------------------------------------------------------------------

def test_account_pages_are_for_admins_only(app, as_sonnam, world):
    sonnam = _account(world, "sonnam")
    for url in ["/quan-tri/tai-khoan/", f"/quan-tri/tai-khoan/{sonnam.id}", "/quan-tri/tai-khoan/nhap"]:
        assert as_sonnam.get(url).status_code == 403, url
        assert _client(app).get(url).status_code == 302, url  # signed out: to the login page
    r = _post(as_sonnam, "/", f"/quan-tri/tai-khoan/{sonnam.id}/dat-lai-mat-khau", {})
    assert r.status_code == 403
    assert _account(world, "sonnam").must_change_password is False


def test_admin_forms_need_the_csrf_token(as_admin, world):
    r = as_admin.post("/quan-tri/tai-khoan/", data={"username": "khong-token", "role": "admin"})
    assert r.status_code == 400 and "Phiên làm việc đã hết hạn" in r.get_data(as_text=True)
    sonnam = _account(world, "sonnam")
    assert as_admin.post(f"/quan-tri/tai-khoan/{sonnam.id}/vo-hieu-hoa").status_code == 400
    assert _account(world, "sonnam").active


def test_admin_creates_a_lookup_account_which_must_change_its_password_first(app, as_admin, world):
    r = _create(as_admin, username="cb.moi", display_name="Cán Bộ Mới", new_unit="11953", email="moi@x.vn")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Đã tạo tài khoản" in html and "Phường Phố Hiến" in html
    [initial] = _passwords(html)
    account = _account(world, "cb.moi")
    assert account.must_change_password and account.role == "lookup" and account.new_unit_code == "11953"
    assert timedelta(days=364) < account.expires_at - utcnow() <= timedelta(days=366)  # a year by default
    # the day shown is the local day (Hà Nội), as the code reads it: not the machine's date.today()
    assert (local_today() + timedelta(days=365)).strftime("%d/%m/%Y") in html

    user = _client(app)
    r = login(user, "cb.moi", initial)
    assert r.status_code == 302 and r.headers["Location"] == "/doi-mat-khau"
    for url in ["/", f"/van-ban/{world.docs['an_tao']}", "/quan-tri/"]:
        r = user.get(url)
        assert r.status_code == 302 and r.headers["Location"] == "/doi-mat-khau", url
    assert user.get("/api/v1/search?q=bao").status_code in (401, 403)  # the API is closed too
    page = user.get("/doi-mat-khau").get_data(as_text=True)
    assert "Bạn cần đổi mật khẩu ban đầu" in page

    r = _change_password(user, initial, "ngan")
    assert r.status_code == 400 and "ít nhất 10 ký tự" in r.get_data(as_text=True)
    r = _change_password(user, initial, "cb.moi-Kho-2025")
    assert r.status_code == 400 and "không được chứa tên đăng nhập" in r.get_data(as_text=True)
    r = _change_password(user, "sai-" + initial, NEW_PASSWORD)
    assert r.status_code == 400 and "Mật khẩu hiện tại không đúng" in r.get_data(as_text=True)
    r = _change_password(user, initial, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert r.status_code == 400 and "không khớp" in r.get_data(as_text=True)
    r = _change_password(user, initial, NEW_PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert user.get("/").status_code == 200  # still signed in, now free to search
    ids = {h["id"] for h in user.get("/api/v1/search", query_string={"q": "bao cao"}).get_json()["hits"]}
    assert world.docs["an_tao"] in ids and world.docs["lam_son"] not in ids
    assert not _account(world, "cb.moi").must_change_password
    assert login(_client(app), "cb.moi", initial).status_code == 401
    assert login(_client(app), "cb.moi", NEW_PASSWORD).status_code == 302


def test_create_form_refusals_are_explained(as_admin):
    r = _create(as_admin, username="cb.khong-don-vi")
    assert r.status_code == 400 and "phải thuộc một đơn vị mới" in r.get_data(as_text=True)
    r = _create(as_admin, username="admin", role="admin")
    assert r.status_code == 400 and "đã tồn tại" in r.get_data(as_text=True)
    r = _create(as_admin, username="cb.ngay-sai", new_unit="11953", expires="31/02/2026")
    assert r.status_code == 400 and "không tồn tại" in r.get_data(as_text=True)


def test_disable_and_reenable_end_and_restore_access(app, as_admin, world):
    _create(as_admin, username="cb.khoa", new_unit="11983")
    account = _account(world, "cb.khoa")
    page = f"/quan-tri/tai-khoan/{account.id}"
    from archive_portal.services.accounts import reset_password  # a known password for the test user

    with world.archive.db.transaction() as s:
        password = reset_password(s, s.get(Account, account.id))
        s.get(Account, account.id).must_change_password = False
    user = _client(app)
    assert login(user, "cb.khoa", password).status_code == 302
    assert user.get("/").status_code == 200

    r = _post(as_admin, page, f"{page}/vo-hieu-hoa", {}, follow_redirects=True)
    assert "Đã vô hiệu hóa tài khoản" in r.get_data(as_text=True) and "Đã vô hiệu hóa" in r.get_data(as_text=True)
    assert user.get("/").status_code == 302  # the open session ended
    assert login(_client(app), "cb.khoa", password).status_code == 401

    r = _post(as_admin, page, f"{page}/kich-hoat", {}, follow_redirects=True)
    assert "Đã kích hoạt lại tài khoản" in r.get_data(as_text=True)
    assert login(_client(app), "cb.khoa", password).status_code == 302


def test_expire_and_extend(app, as_admin, world):
    from archive_portal.services.accounts import create_account

    with world.archive.db.transaction() as s:
        account, _ = create_account(s, username="cb.hethan", role="lookup", new_unit_code="11953", password=PASSWORD)
        account_id = account.id
    page = f"/quan-tri/tai-khoan/{account_id}"
    user = _client(app)
    assert login(user, "cb.hethan").status_code == 302
    r = _post(as_admin, page, f"{page}/het-han", {}, follow_redirects=True)
    assert "Đã hết hạn" in r.get_data(as_text=True)
    assert user.get("/").status_code == 302
    assert login(_client(app), "cb.hethan").status_code == 401

    later = local_today() + timedelta(days=30)
    r = _post(as_admin, page, f"{page}/gia-han", {"expires": later.strftime("%d/%m/%Y")}, follow_redirects=True)
    assert f"Đã đặt ngày hết hạn {later.strftime('%d/%m/%Y')}" in r.get_data(as_text=True)
    assert login(_client(app), "cb.hethan").status_code == 302


def test_reset_password_gives_a_new_one_to_change_and_ends_sessions(app, as_admin, world):
    from archive_portal.services.accounts import create_account

    with world.archive.db.transaction() as s:
        account, _ = create_account(s, username="cb.quenmk", role="lookup", new_unit_code="11983", password=PASSWORD)
        account_id = account.id
    user = _client(app)
    assert login(user, "cb.quenmk").status_code == 302
    page = f"/quan-tri/tai-khoan/{account_id}"
    r = _post(as_admin, page, f"{page}/dat-lai-mat-khau", {})
    assert r.status_code == 200 and "Đã đặt lại mật khẩu" in r.get_data(as_text=True)
    [new] = _passwords(r.get_data(as_text=True))
    assert user.get("/").status_code == 302
    assert login(_client(app), "cb.quenmk", PASSWORD).status_code == 401
    again = _client(app)
    assert login(again, "cb.quenmk", new).headers["Location"] == "/doi-mat-khau"


def test_admin_actions_are_in_the_audit_trail(as_admin, world):
    _create(as_admin, username="cb.nhatky", new_unit="11953")
    with world.archive.db.session() as s:
        events = s.query(AuditEvent).filter_by(action="account_create", target="cb.nhatky").all()
    assert len(events) == 1 and events[0].username == "admin"


# -- bulk creation ----------------------------------------------------------------------------------

def _csv_list() -> bytes:
    text = ("Họ và tên;Tên đăng nhập;Đơn vị mới;Email;Ngày hết hạn\n"
            "Nguyễn Văn Một;hl.mot;11953;mot@phohien.vn;31/12/2030\n"
            "Trần Thị Hai;hl.hai;Phường Sơn Nam;;\n"
            "Lê Văn Ba;hl.ba;99999;;\n"
            "Phạm Bốn;admin;11953;;\n")
    return text.encode("utf-8-sig")


def _xlsx_list(tmp_path) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Ho va ten", "Ten dang nhap", "Ma don vi moi", "Email", "Ngay het han"])  # headers without diacritics
    ws.append(["Đỗ Năm", "hl.nam", "11983", "nam@sonnam.vn", date(2031, 6, 30)])
    ws.append(["Vũ Sáu", "hl.sau", 11953, None, "15/03/2031"])
    path = tmp_path / "can-bo.xlsx"
    wb.save(path)
    return path.read_bytes()


def _upload(as_admin, data: bytes, filename: str, output: str = "html"):
    return _post(as_admin, "/quan-tri/tai-khoan/nhap", "/quan-tri/tai-khoan/nhap",
                 {"file": (io.BytesIO(data), filename), "output": output}, content_type="multipart/form-data")


def test_bulk_create_from_csv_gives_a_printable_list_of_initial_passwords(app, as_admin, world):
    r = _upload(as_admin, _csv_list(), "danh-sach.csv")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Đã tạo 2/4 tài khoản" in html
    assert "Không tìm thấy đơn vị mới “99999”" in html and "đã tồn tại" in html
    passwords = _passwords(html)
    assert len(passwords) == 2
    one, two = _account(world, "hl.mot"), _account(world, "hl.hai")
    assert (one.new_unit_code, one.display_name, one.email) == ("11953", "Nguyễn Văn Một", "mot@phohien.vn")
    assert one.expires_at.date() == date(2030, 12, 31) and "31/12/2030" in html
    assert two.new_unit_code == "11983"  # the unit given by its name
    assert one.must_change_password and two.must_change_password
    r = login(_client(app), "hl.mot", passwords[0])
    assert r.status_code == 302 and r.headers["Location"] == "/doi-mat-khau"


def test_bulk_create_from_xlsx_as_csv(app, as_admin, world, tmp_path):
    r = _upload(as_admin, _xlsx_list(tmp_path), "can-bo.xlsx", output="csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [row["Tên đăng nhập"] for row in rows] == ["hl.nam", "hl.sau"]
    assert rows[0]["Ngày hết hạn"] == "30/06/2031" and rows[1]["Mã đơn vị mới"] == "11953"
    assert login(_client(app), "hl.sau", rows[1]["Mật khẩu ban đầu"]).status_code == 302


def test_bulk_create_refuses_unreadable_lists(as_admin):
    r = _upload(as_admin, b"a,b,c\n1,2,3\n", "sai-cot.csv")
    assert r.status_code == 400 and "Thiếu cột" in r.get_data(as_text=True)
    r = _upload(as_admin, b"MZ\x90\x00", "virus.exe")
    assert r.status_code == 400 and "Chỉ nhận tệp CSV hoặc Excel" in r.get_data(as_text=True)
    r = _upload(as_admin, b"PK\x03\x04 not really a zip", "hong.xlsx")
    assert r.status_code == 400 and "không đọc được" in r.get_data(as_text=True)


# -- the CLI ----------------------------------------------------------------------------------------

def test_cli_provisioning(tmp_path, monkeypatch):
    from pathlib import Path

    from archive_portal.cli import console

    monkeypatch.setattr(console, "width", 200)  # the listing's table unwrapped

    units = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
    runner = CliRunner(env={"ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_DATABASE_URL": None})

    def run(*args):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        return result

    assert run("units", "import", str(units)).exit_code == 0
    assert run("accounts", "create", "--username", "admin", "--role", "admin").exit_code == 0
    (tmp_path / "list.csv").write_bytes(_csv_list())
    out = tmp_path / "out.csv"
    result = run("accounts", "import", str(tmp_path / "list.csv"), "-o", str(out))
    assert result.exit_code == 1  # two rows refused
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))
    created = [r for r in rows if r["Mật khẩu ban đầu"]]
    assert [r["Tên đăng nhập"] for r in created] == ["hl.mot", "hl.hai"]

    result = run("accounts", "create", "--username", "cli.tra-cuu", "--new-unit", "11953", "--expires", "01/01/2031")
    assert result.exit_code == 0 and "hết hạn: 01/01/2031" in result.output
    assert "Mật khẩu ban đầu:" in result.output
    assert run("accounts", "create", "--username", "cli.yeu", "--role", "admin", "--password", "matkhau123").exit_code == 1
    assert run("accounts", "disable", "hl.mot").exit_code == 0
    assert run("accounts", "expire", "hl.hai").exit_code == 0
    assert run("accounts", "expire", "cli.tra-cuu", "--on", "02/02/2032").exit_code == 0
    result = run("accounts", "reset-password", "cli.tra-cuu")
    assert result.exit_code == 0 and "Mật khẩu mới của cli.tra-cuu" in result.output
    assert run("accounts", "disable", "khong-ai").exit_code == 1
    listing = run("accounts", "list").output
    assert "Đã vô hiệu hóa" in listing and "Đã hết hạn" in listing and "02/02/2032" in listing
