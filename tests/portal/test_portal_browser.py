"""End to end in headless Chromium: sign in through the form, search, open a document."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from archive_portal import create_app
from portal_helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(world):
    app = create_app(archive=world.archive)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.browser
def test_sign_in_search_and_open_a_document(live_server, world, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="vi-VN")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(f"{live_server}/")
            assert "/dang-nhap" in page.url
            page.fill("#username", "sonnam")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server}/")

            page.fill("#q", "ke hoach sap xep")
            page.click("form.search button[type=submit]")
            page.wait_for_selector("li.hit")
            assert "Tìm thấy" in page.inner_text("p.summary")
            assert page.locator("li.hit mark").count() > 0
            assert world.subjects["an_tao"] not in page.content()

            page.click(f"a[href='/van-ban/{world.docs['lam_son']}']")
            page.wait_for_selector("h1.subject")
            assert page.inner_text("h1.subject") == world.subjects["lam_son"]
            assert "10/04/2024" in page.inner_text("article.document")
            page.click("details.page-image summary")
            image = page.locator("details.page-image img").first
            image.wait_for(state="visible")
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
            page.screenshot(path=str(tmp_path / "document.png"), full_page=True)
            assert (tmp_path / "document.png").stat().st_size > 0
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()
