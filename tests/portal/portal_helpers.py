"""Helpers shared by the portal tests (signing in through the real form)."""
from __future__ import annotations

import re

PASSWORD = "mat-khau-rat-dai-2025"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/dang-nhap")
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/dang-nhap", data={"username": username, "password": password, "csrf_token": token})
