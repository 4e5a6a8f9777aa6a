"""Security headers on every response, and error pages that never show a stack trace."""
from __future__ import annotations

import re

from portal_helpers import login

from archive_portal import create_app


def _assert_headers(r, framed: bool = False):
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]
    if framed:
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    else:
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in csp


def test_headers_everywhere(client, as_sonnam, world):
    _assert_headers(client.get("/dang-nhap"))
    _assert_headers(client.get("/"))  # redirect
    _assert_headers(client.get("/static/style.css"))
    _assert_headers(as_sonnam.get("/"))
    _assert_headers(as_sonnam.get(f"/van-ban/{world.docs['lam_son']}"))
    _assert_headers(as_sonnam.get("/khong-co-trang-nay"))
    _assert_headers(as_sonnam.get("/api/v1/search?q=bao"))
    _assert_headers(as_sonnam.get(f"/van-ban/{world.docs['lam_son']}/tep/{world.files['lam_son']}/xem"), framed=True)


def test_pages_have_no_inline_script(as_sonnam, world):
    for url in ["/", "/?q=bao+cao", f"/van-ban/{world.docs['lam_son']}"]:
        html = as_sonnam.get(url).get_data(as_text=True)
        # scripts come from files of the server only (the CSP forbids inline ones): no <script> without src
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert all(src.startswith("/static/") for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html))
        assert "onclick" not in html and "style=" not in html


def test_vietnamese_404(as_sonnam):
    r = as_sonnam.get("/khong-co-trang-nay")
    assert r.status_code == 404
    assert "Không tìm thấy" in r.get_data(as_text=True)


def test_500_page_hides_the_error(world):
    app = create_app(archive=world.archive)

    @app.route("/_boom")
    def boom():
        raise RuntimeError("bí mật nội bộ: /etc/passwd")

    client = app.test_client()
    login(client, "admin")
    r = client.get("/_boom")
    assert r.status_code == 500
    html = r.get_data(as_text=True)
    assert "Lỗi hệ thống" in html
    assert "bí mật" not in html and "Traceback" not in html and "RuntimeError" not in html
    _assert_headers(r)
