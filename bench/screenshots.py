"""`make screenshots`: the main pages of the portal, as each role sees them, at 1366x768 and 390x844.

Starts the app on a demo home (``ARCHIVE_HOME``; the demo export is loaded first when the archive is
empty), signs in with the demo accounts in Debian's Chromium and writes PNGs into ``docs/screenshots/``.
"""
from __future__ import annotations

import threading
from pathlib import Path

import click
from werkzeug.serving import make_server

from archive_core.context import Archive
from archive_core.settings import Settings
from archive_portal import create_app
from specimens.demo import DEMO_ACCOUNTS, setup_demo

CHROMIUM = "/usr/bin/chromium"
SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
PASSWORDS = {username: password for username, _, _, password in DEMO_ACCOUNTS}
# (account or None, path, file name); "{doc}" is the first hit of the lookup's search
SHOTS = (
    (None, "/dang-nhap", "dang-nhap"),
    ("phohien", "/?q=kế+hoạch", "tra-cuu"),
    ("phohien", "/van-ban/{doc}", "van-ban"),
    ("phohien", "/van-ban/{doc}/in", "van-ban-ban-in"),
    ("phohien", "/tong-quan/", "tong-quan-tra-cuu"),
    ("quantri", "/quan-tri/", "quan-tri"),
    ("quantri", "/nhat-ky/", "nhat-ky"),
    ("luutru", "/luu-tru/", "goi-du-lieu"),
    ("luutru", "/luu-tru/goi/1/bien-ban/in", "bien-ban-ban-in"),
)


def _serve(archive: Archive):
    server = make_server("127.0.0.1", 0, create_app(archive=archive), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/dang-nhap")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/dang-nhap" not in url)


def take(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            for size, viewport in SIZES.items():
                contexts: dict[str | None, object] = {}
                doc = ""
                for account, path, name in SHOTS:
                    if account not in contexts:
                        context = browser.new_context(viewport=viewport, locale="vi-VN", device_scale_factor=1)
                        page = context.new_page()
                        if account:
                            _sign_in(page, base, account)
                        contexts[account] = (context, page)
                    _, page = contexts[account]
                    if "{doc}" in path and not doc:
                        page.goto(f"{base}/?q=kế+hoạch")
                        doc = page.locator("li.hit a[href^='/van-ban/']").first.get_attribute("href").split("/")[2]
                        doc = doc.split("?")[0]
                    page.goto(base + path.format(doc=doc))
                    page.wait_for_load_state("networkidle")
                    target = out / f"{name}-{size}.png"
                    page.screenshot(path=str(target))
                    written.append(target)
                for context, _ in contexts.values():
                    context.close()
        finally:
            browser.close()
    return written


TITLES = {"dang-nhap": "Đăng nhập", "tra-cuu": "Tra cứu (cán bộ phường Phố Hiến)", "van-ban": "Một văn bản",
          "van-ban-ban-in": "Bản để in của văn bản", "tong-quan-tra-cuu": "Tổng quan phạm vi của cán bộ tra cứu",
          "quan-tri": "Trang quản trị (bảng điều khiển)", "nhat-ky": "Nhật ký truy cập",
          "goi-du-lieu": "Gói dữ liệu (lưu trữ viên)", "bien-ban-ban-in": "Biên bản bàn giao, bản để in"}


def write_index(out: Path) -> Path:
    """docs/screenshots/README.md: each page, desktop beside phone."""
    lines = ["# Ảnh chụp màn hình / Screenshots", "",
             "Written by `make screenshots` (bench/screenshots.py) from the demo of `make run`: 1366x768 and 390x844.", ""]
    for _, _, name in SHOTS:
        lines += [f"## {TITLES.get(name, name)}", "",
                  f'<img src="{name}-1366.png" width="640" alt="{TITLES.get(name, name)}, 1366 px"> '
                  f'<img src="{name}-390.png" width="190" alt="{TITLES.get(name, name)}, 390 px">', ""]
    index = out / "README.md"
    index.write_text("\n".join(lines), encoding="utf-8")
    return index


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/screenshots"), show_default=True)
def main(out: Path) -> None:
    """Write PNGs of the main pages into OUT (the demo is loaded first into an empty ARCHIVE_HOME)."""
    archive = Archive.open(Settings.load())
    try:
        if archive.engine.count(None) == 0:
            setup_demo(archive, archive.settings.home / "demo-export")
        server, thread, base = _serve(archive)
        try:
            for path in take(base, out):
                click.echo(f"{path} ({path.stat().st_size // 1024} KB)")
            click.echo(write_index(out))
        finally:
            server.shutdown()
            thread.join(timeout=10)
    finally:
        archive.close()


if __name__ == "__main__":
    main()
