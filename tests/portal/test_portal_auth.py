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
                    data={"username": "sonnam", "password": PASSWORD, "csrf_token": token})
    assert r.headers["Location"] == f"/van-ban/{doc}"
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    for evil in ["//evil.example/", "https://evil.example/", "/\\evil.example"]:
        token = csrf_token(client.get("/dang-nhap").get_data(as_text=True))
        r = client.post("/dang-nhap", query_string={"next": evil},
                        data={"username": "sonnam", "password": PASSWORD, "csrf_token": token})
        assert r.headers["Location"] == "/", evil
        client.post("/dang-xuat", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})


def test_logout_is_post_with_csrf(as_sonnam):
    assert as_sonnam.get("/dang-xuat").status_code == 405
    assert as_sonnam.post("/dang-xuat").status_code == 400  # no token
    assert as_sonnam.get("/").status_code == 200
    token = csrf_token(as_sonnam.get("/").get_data(as_text=True))
    r = as_sonnam.post("/dang-xuat", data={"csrf_token": token})
    assert r.status_code == 302
    assert as_sonnam.get("/").status_code == 302


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
