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

            # The unit list filters as one types (no diacritics needed); a calendar writes dd/mm/yyyy.
            page.fill("#unit-filter", "lam son")
            page.wait_for_function("document.querySelector(\"#unit option[value='323']\").hidden")
            assert page.evaluate("document.querySelector(\"#unit option[value='11950']\").hidden") is False
            page.select_option("#unit", "11950")
            page.fill("#unit-filter", "")
            page.select_option("#unit", "")
            page.locator("input.date-picker").first.fill("2024-04-10")
            assert page.input_value("input[name=from]") == "10/04/2024"
            page.fill("input[name=from]", "")

            page.fill("#q", "UBND")
            page.select_option("select[name=sort]", "date_asc")
            page.click("form.search button[type=submit]")
            page.wait_for_selector("li.hit")
            assert "Tìm thấy" in page.inner_text("p.summary")
            assert page.locator("li.hit mark").count() > 0
            assert world.subjects["an_tao"] not in page.content()
            results_url = page.url

            # Open the document from its result: at the first matching page, the hit marked in text and image.
            page.click(f"a[href^='/van-ban/{world.docs['lam_son']}?']")
            page.wait_for_selector("h1.subject")
            assert page.inner_text("h1.subject") == world.subjects["lam_son"]
            assert "10/04/2024" in page.inner_text("article.document")
            assert page.inner_text("#page-seq") == "1"
            assert page.inner_text("#page-text mark#hit-1") == "UBND"
            image = page.locator("#page-image")
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
            boxes = page.locator("rect.hit-box")
            assert boxes.count() == 2  # "UBND" twice on page 1
            img_box, hit_box = image.bounding_box(), boxes.first.bounding_box()
            assert img_box and hit_box and img_box["y"] <= hit_box["y"] < img_box["y"] + img_box["height"] / 4
            # Side by side at 1366 px: the text column starts right of the image.
            assert page.locator("#page-text").bounding_box()["x"] > img_box["x"] + img_box["width"] - 1
            # The page text is read in the page flow (no inner scroll box).
            assert page.evaluate("getComputedStyle(document.getElementById('page-text')).overflowY") == "visible"

            # Zoom (own JS, allowed by the CSP) makes the image wider.
            page.click(".zoom-tools button[data-zoom='1']")
            page.wait_for_function("document.querySelector('.scan-wrap').classList.contains('zoom-1')")
            assert image.bounding_box()["width"] > img_box["width"] * 1.4
            page.click(".zoom-tools button[data-zoom='0']")

            # Next hit: the second on page 1, then the third on page 2.
            page.click("#next-hit")
            page.wait_for_selector("#page-seq >> text=2")
            assert page.url.endswith("#hit-3")
            assert page.inner_text("mark#hit-3") == "UBND"
            page.screenshot(path=str(tmp_path / "document.png"), full_page=True)
            assert (tmp_path / "document.png").stat().st_size > 0

            # Back to the results: same query, sort and page.
            page.click("#back-to-results")
            page.wait_for_selector("li.hit")
            assert page.url.split("?")[0] == results_url.split("?")[0]
            assert page.input_value("#q") == "UBND"
            assert page.input_value("select[name=sort]") == "date_asc"

            # On a phone the image and the text are stacked.
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{live_server}/van-ban/{world.docs['lam_son']}?q=UBND")
            image_box = page.locator("#page-image").bounding_box()
            assert page.locator("#page-text").bounding_box()["y"] >= image_box["y"] + image_box["height"] - 1
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.goto(f"{live_server}/?q=UBND")  # the search page with its unit filter, export, save and choice rows
            page.wait_for_selector("li.hit")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()


@pytest.mark.browser
def test_export_and_bulk_download_from_the_results_page(live_server, world, tmp_path):
    """An official exports the results as XLSX and downloads two chosen documents as a zip, in the browser."""
    import io
    import zipfile
    from pathlib import Path

    from openpyxl import load_workbook
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="vi-VN", accept_downloads=True)
            page.goto(f"{live_server}/dang-nhap")
            page.fill("#username", "sonnam")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server}/")
            page.fill("#q", "UBND")
            page.click("form.search button[type=submit]")
            page.wait_for_selector("li.hit")

            with page.expect_download() as sheet:
                page.click("#export-xlsx")
            rows = [[c for c in row if c is not None] for row in
                    load_workbook(io.BytesIO(Path(sheet.value.path()).read_bytes()), read_only=True).active.iter_rows(values_only=True)]
            text = "\n".join(" ".join(str(c) for c in row) for row in rows)
            assert world.subjects["lam_son"] in text, "the visible results are in the sheet"
            assert world.subjects["an_tao"] not in text, "nothing outside the account's scope"

            picks = page.locator("input.pick")
            assert picks.count() >= 2
            picks.nth(0).check()
            picks.nth(1).check()
            with page.expect_download() as bundle:
                page.click("#bulk button[type=submit]")
            data = Path(bundle.value.path()).read_bytes()
            with zipfile.ZipFile(io.BytesIO(data)) as archive_zip:
                names = archive_zip.namelist()
                pdfs = [n for n in names if n.lower().endswith(".pdf")]
                assert len(pdfs) == 2, names
                assert all(b"/ArchiveStamp" in archive_zip.read(n) for n in pdfs), "stamped copies for a lookup account"
        finally:
            browser.close()
