"""Orientation is checked with Tesseract's OSD only when a poor reading is noise, not when it is words."""
from __future__ import annotations

import pytest
from PIL import Image, ImageFilter

from ingest.ocr import ORIENTATION_RETRY_BELOW, _reads_as_vietnamese, ocr_image
from specimens import make_specimens, render_scan


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    spec = make_specimens(1, seed=41)[0]
    path = render_scan(spec, tmp_path_factory.mktemp("scan") / "page.png", "png", dpi=150)
    with Image.open(path) as image:
        return image.convert("L")


@pytest.mark.ocr
def test_a_blurred_upright_page_reads_as_words_and_a_page_upside_down_as_noise(page):
    blurred = page.filter(ImageFilter.GaussianBlur(2.7))
    poor = ocr_image(blurred, "vie", correct=False)
    assert poor.mean_confidence < ORIENTATION_RETRY_BELOW and poor.text.strip(), "a poor reading, but words"
    assert _reads_as_vietnamese(poor.text, "vie"), (poor.mean_confidence, poor.text[:200])
    upside_down = ocr_image(page.rotate(180), "vie", correct=False)
    assert upside_down.mean_confidence < ORIENTATION_RETRY_BELOW
    assert not _reads_as_vietnamese(upside_down.text, "vie"), upside_down.text[:200]
    assert not _reads_as_vietnamese(upside_down.text, "eng"), "without Vietnamese OCR every poor reading is checked"
    turned = ocr_image(page.rotate(180), "vie")
    assert turned.mean_confidence > upside_down.mean_confidence + 15, "the page upside down is still turned upright"
