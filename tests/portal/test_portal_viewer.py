"""The document viewer: opened from a search at the first matching page, hits marked in the text and
on the page image (pypdfium2's character boxes for text pages, Tesseract's word boxes for scans),
next hit, search inside one document, and "« Tra cứu" back to the same results."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw, ImageFont

from archive_portal.services.viewer import ocr_boxes
from indexes.query import parse_text
from ingest.ocr import ocr_image

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _rects(html: str) -> list[tuple[float, float, float, float]]:
    return [tuple(float(v) for v in m) for m in
            re.findall(r'<rect class="hit-box" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', html)]


def test_result_link_carries_the_search_and_the_document_opens_at_the_hit(as_sonnam, world):
    html = as_sonnam.get("/", query_string={"q": '"ket qua thuc hien"', "sort": "date_desc"}).get_data(as_text=True)
    link = unescape(re.search(rf'href="(/van-ban/{world.docs["lam_son"]}\?[^"]+)"', html).group(1))
    assert parse_qs(urlsplit(link).query) == {"q": ['"ket qua thuc hien"'], "sort": ["date_desc"]}
    page = as_sonnam.get(link).get_data(as_text=True)
    assert '<strong id="page-seq">2</strong>' in page  # page 2 holds the words, page 1 does not
    assert '<mark id="hit-1">kết quả thực hiện</mark>' in page
    # The box lies on the line reportlab drew at y=800pt of an 842pt A4 page (top ~0.05 of the page),
    # after "Báo cáo " which starts at x=60pt of 595pt (0.10 of the width): in thousandths of the page.
    (x, y, w, h), = _rects(page)
    assert 110 < x < 260 and 25 < y < 75 and 10 < h < 40 and 150 < w < 400
    back = unescape(re.search(r'href="([^"]*)" id="back-to-results"', page).group(1))
    assert parse_qs(urlsplit(back).query) == {"q": ['"ket qua thuc hien"'], "sort": ["date_desc"]}
    assert urlsplit(back).path == "/"


def test_next_hit_leads_to_the_next_page_and_search_inside_the_document(as_sonnam, world):
    doc = world.docs["lam_son"]
    page = as_sonnam.get(f"/van-ban/{doc}", query_string={"q": "UBND"}).get_data(as_text=True)
    assert '<strong id="page-seq">1</strong>' in page and 'id="hit-1">UBND</mark>' in page
    assert "Có <strong>3</strong> chỗ khớp" in page and 'id="hit-2">UBND</mark>' in page  # two on page 1
    nxt = unescape(re.search(r'href="([^"]+)" id="next-hit"', page).group(1))
    assert nxt.endswith("#hit-3") and "trang=2" in nxt
    second = as_sonnam.get(nxt).get_data(as_text=True)
    assert '<strong id="page-seq">2</strong>' in second and '<mark id="hit-3">UBND</mark>' in second
    assert 'id="prev-hit"' in second and 'id="next-hit"' not in second
    # Search inside this document only; the search it came from is kept for the way back.
    inside = as_sonnam.get(f"/van-ban/{doc}", query_string={"q": "UBND", "tim": "\"hưng yên\""}).get_data(as_text=True)
    assert '<mark id="hit-1">Hưng Yên</mark>' in inside
    back = unescape(re.search(r'href="([^"]*)" id="back-to-results"', inside).group(1))
    assert parse_qs(urlsplit(back).query) == {"q": ["UBND"]}
    none = as_sonnam.get(f"/van-ban/{doc}", query_string={"tim": "không hề có"}).get_data(as_text=True)
    assert "Không có chỗ nào khớp" in none


def test_viewer_is_scoped_like_the_document(as_sonnam, world):
    assert as_sonnam.get(f"/van-ban/{world.docs['an_tao']}", query_string={"q": "báo cáo", "trang": 2}).status_code == 404


def test_ocr_word_boxes_mark_the_hit_on_a_scan(tmp_path):
    """A real Tesseract reading of a rendered scan: its stored words place the hit where it was drawn."""
    image = Image.new("RGB", (1240, 600), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 40)
    draw.text((80, 100), "ỦY BAN NHÂN DÂN", font=font, fill="black")
    draw.text((80, 300), "Báo cáo tình hình thiên tai", font=font, fill="black")
    stored = ocr_image(image).word_boxes()
    assert stored and stored["w"] == 1240
    terms, _ = parse_text("tinh hinh")
    boxes = ocr_boxes(stored, terms)
    assert len(boxes) == 2  # "tình" and "hình"
    for box in boxes:
        assert 0.45 < box.y < 0.6 and box.x > 0.2
