"""The document page, originals inline and as downloads, page images."""
from __future__ import annotations

import io
from urllib.parse import quote

from PIL import Image


def test_document_page_shows_metadata_sources_and_pages(as_sonnam, world):
    doc = world.docs["lam_son"]
    html = as_sonnam.get(f"/van-ban/{doc}").get_data(as_text=True)
    assert world.subjects["lam_son"] in html
    assert "Số, ký hiệu" in html and "74/KH-UBND" in html
    assert "10/04/2024" in html and "2024-04-10" not in html
    assert "Danh mục" in html and "Đọc từ nội dung" in html  # field sources
    assert "Trang 1" in html and "Trang 2" in html
    assert "KẾ HOẠCH sắp xếp" in html  # the viewer opens at the first page
    assert "Báo cáo kết quả thực hiện" in as_sonnam.get(f"/van-ban/{doc}?trang=2").get_data(as_text=True)
    assert f"/van-ban/{doc}/tep/{world.files['lam_son']}/trang/1.png" in html
    assert f"/van-ban/{doc}/tep/{world.files['lam_son']}/xem" in html
    assert "Phường Lam Sơn" in html


def test_flags_and_ocr_confidence_shown(as_phohien, world):
    html = as_phohien.get(f"/van-ban/{world.docs['an_tao']}").get_data(as_text=True)
    assert "thieu_chu_ky" in html
    assert "OCR" in html and "92%" in html


def test_download_has_original_bytes_and_vietnamese_filename(as_sonnam, world):
    doc, f = world.docs["lam_son"], world.files["lam_son"]
    r = as_sonnam.get(f"/van-ban/{doc}/tep/{f}/tai-ve")
    assert r.status_code == 200
    assert r.data.startswith(b"%PDF")
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" + quote("Kế hoạch 74-KH.pdf") in disposition
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_inline_pdf_may_be_framed_by_the_site_only(as_sonnam, world):
    doc, f = world.docs["lam_son"], world.files["lam_son"]
    r = as_sonnam.get(f"/van-ban/{doc}/tep/{f}/xem")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("inline")
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]


def test_tiff_is_not_shown_inline_but_renders_pages(as_phohien, world):
    doc, f = world.docs["an_tao"], world.files["an_tao"]
    assert as_phohien.get(f"/van-ban/{doc}/tep/{f}/xem").status_code == 404
    for n in (1, 2):
        r = as_phohien.get(f"/van-ban/{doc}/tep/{f}/trang/{n}.png")
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert Image.open(io.BytesIO(r.data)).format == "PNG"
    assert as_phohien.get(f"/van-ban/{doc}/tep/{f}/trang/3.png").status_code == 404


def test_pdf_page_image_is_bounded(as_sonnam, world):
    doc, f = world.docs["lam_son"], world.files["lam_son"]
    r = as_sonnam.get(f"/van-ban/{doc}/tep/{f}/trang/2.png")
    assert r.status_code == 200
    assert Image.open(io.BytesIO(r.data)).width == 1000
    big = as_sonnam.get(f"/van-ban/{doc}/tep/{f}/trang/1.png?w=100000")
    assert Image.open(io.BytesIO(big.data)).width <= 2000
    for bad in ("0", "3", "99999999"):
        assert as_sonnam.get(f"/van-ban/{doc}/tep/{f}/trang/{bad}.png").status_code == 404
    assert as_sonnam.get(f"/van-ban/{doc}/tep/{f}/trang/-1.png").status_code == 404


def test_api_document(as_sonnam, world):
    r = as_sonnam.get(f"/api/v1/documents/{world.docs['lam_son']}")
    data = r.get_json()
    assert data["subject"] == world.subjects["lam_son"]
    assert data["issued_date"] == "2024-04-10" and data["issued_date_display"] == "10/04/2024"
    assert data["files"][0]["pages"][1]["text"].startswith("Báo cáo")
    assert {f["name"]: f["source"] for f in data["fields"]}["issuer"] == "text"


def test_no_route_changes_a_document(as_admin, world):
    doc, f = world.docs["lam_son"], world.files["lam_son"]
    for url in [f"/van-ban/{doc}", f"/van-ban/{doc}/tep/{f}/tai-ve", f"/api/v1/documents/{doc}"]:
        for method in ("post", "put", "delete", "patch"):
            assert getattr(as_admin, method)(url).status_code in (400, 405), (method, url)
