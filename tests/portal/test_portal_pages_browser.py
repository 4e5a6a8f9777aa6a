"""Every page in headless Chromium as each role sees it: usable on a 390 px phone (nothing wider than the
screen), axe-core with no critical or serious violation, keyboard skip link; the dashboard and its live
progress bar; print views of a document (one sheet per page) and of the biên bản; the audit log flags a
refused out-of-scope attempt.
"""
from __future__ import annotations

import io
import threading

import pytest
from portal_helpers import PASSWORD
from werkzeug.serving import make_server

from archive_portal import create_app
from archive_portal.services.accounts import create_account

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
EXTRA_ACCOUNTS = {"luutru.ui": "archivist", "kiemtra.ui": "auditor"}


@pytest.fixture(scope="module")
def live_server(world):
    with world.archive.db.transaction() as session:
        from sqlalchemy import select

        from archive_core.db.models import Account

        have = set(session.scalars(select(Account.username)))
        for username, role in EXTRA_ACCOUNTS.items():
            if username not in have:
                create_account(session, username=username, role=role, password=PASSWORD, display_name=username)
    app = create_app(archive=world.archive)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _signed_in(browser, base: str, username: str, viewport=PHONE):
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base}/dang-nhap")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/dang-nhap" not in url)
    return context, page


def _pages(world) -> dict[str, list[str]]:
    lam_son = world.docs["lam_son"]
    with world.archive.db.session() as session:
        from sqlalchemy import select

        from archive_core.db.models import Account

        sonnam = session.scalar(select(Account.id).where(Account.username == "sonnam"))
    return {
        "sonnam": ["/", "/?q=bao+cao", f"/van-ban/{lam_son}", f"/van-ban/{lam_son}/in", "/tong-quan/",
                   "/ma-truy-cap/", "/doi-mat-khau"],
        "admin": ["/quan-tri/", "/quan-tri/tai-khoan/", "/quan-tri/tai-khoan/nhap", "/quan-tri/don-vi/",
                  "/nhat-ky/", "/luu-tru/", "/luu-tru/goi/1", "/luu-tru/goi/1/bien-ban", "/luu-tru/goi/1/bien-ban/in",
                  "/luu-tru/phong/", "/luu-tru/phong/11950", "/luu-tru/giu-lai", "/luu-tru/han-bao-quan",
                  f"/luu-tru/van-ban/{lam_son}", f"/quan-tri/tai-khoan/{sonnam}", "/luu-tru/don-vi/11950/bien-ban",
                  "/tong-quan/",
                  f"/van-ban/{world.docs['an_tao']}"],
        "luutru.ui": ["/luu-tru/", "/tong-quan/", "/ma-truy-cap/"],
        "kiemtra.ui": ["/nhat-ky/", "/tong-quan/"],
    }


def _axe_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in results.response["violations"] if v["impact"] in ("critical", "serious")]


def test_every_page_fits_a_phone_and_passes_axe(live_server, browser, world):
    overflowing, inaccessible = {}, {}
    for username, urls in _pages(world).items():
        context, page = _signed_in(browser, live_server, username)
        try:
            for url in urls:
                response = page.goto(f"{live_server}{url}")
                assert response.status == 200, (username, url, response.status)
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    overflowing[f"{username} {url}"] = width
                problems = _axe_problems(page)
                if problems:
                    inaccessible[f"{username} {url}"] = problems
        finally:
            context.close()
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server}/dang-nhap")
    if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
        overflowing["/dang-nhap"] = page.evaluate("document.documentElement.scrollWidth")
    if _axe_problems(page):
        inaccessible["/dang-nhap"] = _axe_problems(page)
    context.close()
    assert not overflowing, overflowing
    assert not inaccessible, inaccessible


def test_keyboard_skip_link_leads_to_the_content_and_the_menu_is_reachable_on_a_phone(live_server, browser):
    context, page = _signed_in(browser, live_server, "admin")
    try:
        page.goto(f"{live_server}/quan-tri/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent").startswith("Bỏ qua menu")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "noi-dung"
        logout = page.locator("nav.user button", has_text="Đăng xuất")
        box = logout.bounding_box()
        assert box and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 44
        small = page.evaluate("""() => [...document.querySelectorAll('nav.user a, nav.user button')]
            .filter(e => e.getBoundingClientRect().height < 44).map(e => e.textContent.trim())""")
        assert not small, small
    finally:
        context.close()


def test_admin_dashboard_draws_charts_and_a_live_progress_bar(live_server, browser, world):
    context, page = _signed_in(browser, live_server, "admin", viewport=DESKTOP)
    try:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{live_server}/quan-tri/")
        charts = page.locator("svg.chart")
        assert charts.count() >= 4
        labels = page.locator("svg.chart").first.get_attribute("aria-label")
        assert "Phường Lam Sơn" in labels and "Phường An Tảo" in labels
        assert "2024" in page.locator("svg.chart").nth(1).get_attribute("aria-label")
        page.wait_for_function("document.getElementById('ingest-progress').value === 100")
        assert any(u.endswith("/tong-quan/tien-do.json") for u in requests)  # polled
        assert all(u.startswith(live_server) for u in requests), "no request leaves the server"
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 4000, height  # no 5,579 px table: the units mapping is folded
    finally:
        context.close()


def test_lookup_dashboard_counts_only_its_scope(live_server, browser, world):
    context, page = _signed_in(browser, live_server, "sonnam", viewport=DESKTOP)
    try:
        page.goto(f"{live_server}/tong-quan/")
        units = page.locator("svg.chart").first.get_attribute("aria-label")
        assert "Phường Lam Sơn" in units and "An Tảo" not in units
        assert page.locator("#ingest-progress").count() == 0  # staff only
        assert page.request.get(f"{live_server}/tong-quan/tien-do.json").status == 403
    finally:
        context.close()


def _pdf_pages(pdf: bytes) -> int:
    import pypdfium2

    return len(pypdfium2.PdfDocument(io.BytesIO(pdf)))


def test_print_view_of_a_document_is_one_sheet_per_page_with_the_stamp(live_server, browser, world):
    context, page = _signed_in(browser, live_server, "phohien", viewport=DESKTOP)
    try:
        doc_id = world.docs["an_tao"]  # a 2-page scan, in Phố Hiến's scope
        page.goto(f"{live_server}/van-ban/{doc_id}/in")
        images = page.locator("figure.page-sheet img")
        assert images.count() == 2
        page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert "stamp" not in (images.first.get_attribute("src") or "")  # the server stamps the image itself
        assert world.subjects["an_tao"] in page.locator("section.sheet.first").inner_text()
        pdf = page.pdf(format="A4", print_background=True)
        assert _pdf_pages(pdf) == 2  # metadata and page 1 on the first sheet, page 2 on the second
        assert page.locator("button.print-now").count() == 1
    finally:
        context.close()


def test_print_view_of_the_handover_record(live_server, browser, world):
    context, page = _signed_in(browser, live_server, "luutru.ui", viewport=DESKTOP)
    try:
        page.goto(f"{live_server}/luu-tru/goi/1/bien-ban")
        page.click("text=Bản để in (HTML để in)")
        page.wait_for_url(f"{live_server}/luu-tru/goi/1/bien-ban/in")
        page.emulate_media(media="print")
        motto = page.locator(".motto .nowrap")
        assert motto.count() == 2
        for i in range(2):
            box = motto.nth(i).bounding_box()
            assert box and box["height"] < 30, "each line of the national motto on one line"
        text = page.locator(".handover").inner_text()
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
        assert "giờ Việt Nam, GMT+7" in text
        assert str(world.archive.settings.home) not in text and "/tmp" not in text  # no server path
        assert "done" not in text.split() and "folder" not in text.split()
        assert _pdf_pages(page.pdf(format="A4")) >= 1
    finally:
        context.close()


def test_audit_log_flags_a_refused_out_of_scope_attempt(live_server, browser, world):
    out_of_scope = world.docs["an_tao"]  # Phố Hiến's document, asked for by Sơn Nam
    context, page = _signed_in(browser, live_server, "sonnam")
    try:
        assert page.goto(f"{live_server}/van-ban/{out_of_scope}").status == 404
    finally:
        context.close()
    context, page = _signed_in(browser, live_server, "kiemtra.ui", viewport=DESKTOP)
    try:
        page.goto(f"{live_server}/nhat-ky/?username=sonnam&action=document_view")
        row = page.locator("table.audit tr.flagged").first
        assert "Ngoài phạm vi" in row.inner_text()
        link = row.locator(f"a[href='/van-ban/{out_of_scope}']")
        assert link.count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
        assert "{" not in page.locator("table.audit").inner_text()  # no raw JSON
    finally:
        context.close()


def test_on_a_phone_the_first_result_is_on_the_first_screen(live_server, browser):
    context, page = _signed_in(browser, live_server, "sonnam")
    try:
        page.goto(f"{live_server}/?q=bao+cao")
        top = page.locator("li.hit").first.bounding_box()["y"]
        assert top < PHONE["height"], top  # conditions and facets folded under their summaries
        page.click("details.phone-fold > summary >> nth=0")
        assert page.locator("form.search select").first.is_visible()
    finally:
        context.close()
