"""Traceable downloads: lookup copies carry a visible stamp on every page; archivists and admins get the original bytes."""
from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC

from conftest import build_world
from pdf_views import page_texts
from PIL import Image
from portal_helpers import PASSWORD, login
from sqlalchemy import select

from archive_core.db.models import DocumentFile
from archive_portal import create_app
from archive_portal.services.accounts import create_account


def stored_sha(world, key: str) -> str:
    with world.archive.db.session() as session:
        return session.scalar(select(DocumentFile.blob_sha256).where(DocumentFile.id == world.files[key]))


def url(world, key: str, what: str) -> str:
    return f"/van-ban/{world.docs[key]}/tep/{world.files[key]}/{what}"


def test_lookup_download_of_a_pdf_is_stamped_on_every_page(as_phohien, world):
    response = as_phohien.get(url(world, "district", "tai-ve"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    data = response.get_data()
    assert hashlib.sha256(data).hexdigest() != stored_sha(world, "district")
    texts = page_texts(data)
    assert len(texts) == 1
    for text in texts:
        assert "Tải bởi: phohien" in text and "Phường Phố Hiến" in text
        assert "Công văn về phòng chống dịch bệnh" in text  # the page itself is still there


def test_lookup_inline_view_is_stamped_too(as_sonnam, world):
    response = as_sonnam.get(url(world, "lam_son", "xem"))
    assert response.status_code == 200
    texts = page_texts(response.get_data())
    assert len(texts) == 2
    assert all("Tải bởi: sonnam" in t and "Phường Sơn Nam" in t for t in texts)
    assert "KẾ HOẠCH sắp xếp" in texts[0]


def test_lookup_download_of_an_image_becomes_a_stamped_pdf(as_phohien, world):
    response = as_phohien.get(url(world, "an_tao", "tai-ve"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert ".pdf" in response.headers["Content-Disposition"]
    texts = page_texts(response.get_data())
    assert len(texts) == 2  # one page per TIFF frame
    assert all("Tải bởi: phohien" in t for t in texts)


def test_archivists_and_admins_download_the_original_bytes(app, as_admin, world):
    with world.archive.db.transaction() as session:
        create_account(session, username="luutru-stamp", role="archivist", password=PASSWORD)
    archivist = app.test_client()
    assert login(archivist, "luutru-stamp").status_code == 302
    for client in (as_admin, archivist):
        for key in ("district", "an_tao", "lam_son"):
            data = client.get(url(world, key, "tai-ve")).get_data()
            assert hashlib.sha256(data).hexdigest() == stored_sha(world, key), key


def test_a_pdf_that_cannot_be_stamped_is_not_handed_out(tmp_path):
    world = build_world(tmp_path / "home")
    try:
        world.archive.settings = replace(world.archive.settings, max_pdf_pages=1)  # the 2-page PDF is "too big"
        app = create_app(archive=world.archive)
        lookup = app.test_client()
        assert login(lookup, "sonnam").status_code == 302
        refused = lookup.get(url(world, "lam_son", "tai-ve"))
        assert refused.status_code == 403
        assert "không thể đóng dấu" in refused.get_data(as_text=True)
        admin = app.test_client()
        assert login(admin, "admin").status_code == 302
        assert hashlib.sha256(admin.get(url(world, "lam_son", "tai-ve")).get_data()).hexdigest() == stored_sha(world, "lam_son")
    finally:
        world.archive.close()



def test_officials_downloading_at_the_same_time_each_get_their_own_stamped_copy(tmp_path):
    """The portal serves requests on threads: stamped copies made at once must all succeed, each with
    its own stamp.  reportlab's TrueType font, registered once and shared, failed its subsetting when
    two threads saved documents at once (a KeyError: "cannot be stamped", 403; an IndexError: 500),
    about once in 300 stamped downloads of the 1M-document load test."""
    import sys
    import threading
    from datetime import datetime

    from archive_portal.services.stamp import Stamp, image_to_stamped_pdf

    scan = tmp_path / "scan.png"
    Image.new("L", (300, 400), 255).save(scan, dpi=(50, 50))
    copies: dict[str, bytes] = {}
    failed: list[str] = []

    def official(n: int) -> None:
        for i in range(25):
            username = f"tracuu{n:02d}{i:02d}"
            out = io.BytesIO()
            try:  # each its own letters and digits, so each document subsets the font differently
                stamp = Stamp(username, f"Xã Hưng Hà {n}·{i} ĐƯỜNG Ỹ ậ ồ", datetime.now(UTC))
                image_to_stamped_pdf(scan, out, stamp, 10, 10_000_000)
            except Exception as error:  # any failure is what the test reports
                failed.append(f"{username}: {error!r}")
            else:
                copies[username] = out.getvalue()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as the interpreter allows: the race shows
    try:
        threads = [threading.Thread(target=official, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failed == []
    assert len(copies) == 200
    for username, data in copies.items():
        assert f"Tải bởi: {username}" in page_texts(data)[0], username
