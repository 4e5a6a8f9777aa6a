"""Signing in and out: one message for every failure, CSRF enforced, sessions required."""
from __future__ import annotations

from portal_helpers import PASSWORD, csrf_token, login

FAILED = "Tên đăng nhập hoặc mật khẩu không đúng"


def test_login_page_is_vietnamese_and_carries_csrf(client):
    r = client.get("/dang-nhap")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Đăng nhập" in html and "Mật khẩu" in html
    assert csrf_token(html)
    assert client.get("/login").status_code == 200


def test_login_then_search_page(client):
    r = login(client, "sonnam")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Cán bộ Sơn Nam" in page and "Phường Sơn Nam" in page


def test_username_is_case_insensitive(client):
    assert login(client, "SonNam").status_code == 302


def test_every_failure_gives_the_same_answer(client):
    bodies = []
    for username, password in [("sonnam", "sai-mat-khau-123"), ("khong-co-ai", PASSWORD),
                               ("hethan", PASSWORD), ("khoa", PASSWORD)]:
        r = login(client, username, password)
        assert r.status_code == 401, username
        html = r.get_data(as_text=True)
        assert FAILED in html
        bodies.append(html.split("<form")[0])
    assert len(set(bodies)) == 1
    assert client.get("/").status_code == 302  # still signed out


def test_login_without_csrf_token_is_refused(client):
    r = client.post("/dang-nhap", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 400
    assert "Phiên làm việc đã hết hạn" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_with_forged_csrf_token_is_refused(client):
    client.get("/dang-nhap")
    r = client.post("/dang-nhap", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 400
    assert client.get("/").status_code == 302


def test_pages_require_login(client, world):
    doc = world.docs["lam_son"]
    f = world.files["lam_son"]
    for url in ["/", f"/van-ban/{doc}", f"/van-ban/{doc}/tep/{f}/tai-ve", f"/van-ban/{doc}/tep/{f}/xem",
                f"/van-ban/{doc}/tep/{f}/trang/1.png", "/quan-tri/"]:
        r = client.get(url)
        assert r.status_code == 302, url
        assert r.headers["Location"].startswith("/dang-nhap?next="), url
    for url in ["/api/v1/search?q=bao", f"/api/v1/documents/{doc}"]:
        r = client.get(url)
        assert r.status_code == 401 and r.is_json, url


def test_next_goes_back_but_never_off_site(client, world):
    doc = world.docs["lam_son"]
    token = csrf_token(client.get("/dang-nhap").get_data(as_text=True))
    r = client.post(f"/dang-nhap?next=/van-ban/{doc}",
                    data={"username": "sonnam.ra", "password": PASSWORD, "csrf_token": token})
    assert r.headers["Location"] == f"/van-ban/{doc}"
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    for evil in ["//evil.example/", "https://evil.example/", "/\\evil.example"]:
        token = csrf_token(client.get("/dang-nhap").get_data(as_text=True))
        r = client.post("/dang-nhap", query_string={"next": evil},
                        data={"username": "sonnam.ra", "password": PASSWORD, "csrf_token": token})
        assert r.headers["Location"] == "/", evil
        client.post("/dang-xuat", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})


def test_logout_is_post_with_csrf(client):
    login(client, "sonnam.ra")
    assert client.get("/dang-xuat").status_code == 405
    assert client.post("/dang-xuat").status_code == 400  # no token
    assert client.get("/").status_code == 200
    token = csrf_token(client.get("/").get_data(as_text=True))
    r = client.post("/dang-xuat", data={"csrf_token": token})
    assert r.status_code == 302
    assert client.get("/").status_code == 302


def test_session_cookie_flags(client):
    r = login(client, "sonnam")
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_admin_page_only_for_admins(as_admin, as_sonnam):
    r = as_admin.get("/quan-tri/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Phường Sơn Nam" in html and "Phường Lam Sơn" in html
    r = as_sonnam.get("/quan-tri/")
    assert r.status_code == 403
    assert "Không có quyền truy cập" in r.get_data(as_text=True)


def test_repeated_failures_are_throttled(client):
    for _ in range(5):
        assert login(client, "doan-mo", "sai-mat-khau-123").status_code == 401
    r = login(client, "doan-mo", "sai-mat-khau-123")
    assert r.status_code == 429
    assert "Quá nhiều yêu cầu" in r.get_data(as_text=True)
    assert login(client, "phohien").status_code == 302  # another account from the same address still works


def test_disabling_or_new_password_ends_open_sessions(app, world):
    from archive_core.db.models import Account
    from archive_portal.services.accounts import create_account

    with world.archive.db.transaction() as s:
        create_account(s, username="tam-thoi", role="lookup", new_unit_code="11953", password=PASSWORD)
    c = app.test_client()
    assert login(c, "tam-thoi").status_code == 302
    assert c.get("/").status_code == 200
    with world.archive.db.transaction() as s:
        s.query(Account).filter_by(username="tam-thoi").one().password_hash += "x"
    assert c.get("/").status_code == 302
    with world.archive.db.transaction() as s:
        s.query(Account).filter_by(username="tam-thoi").one().password_hash = None
    c2 = app.test_client()
    with world.archive.db.transaction() as s:
        create_account(s, username="tam-thoi-2", role="lookup", new_unit_code="11953", password=PASSWORD)
    assert login(c2, "tam-thoi-2").status_code == 302
    with world.archive.db.transaction() as s:
        s.query(Account).filter_by(username="tam-thoi-2").one().active = False
    assert c2.get("/").status_code == 302
