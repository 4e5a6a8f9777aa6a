"""OCR quality: pages scanned on their side, upside down or skewed are read about as well as straight ones."""

from __future__ import annotations

import pytest
from PIL import Image

from ingest.metadata import fold
from ingest.ocr import deskew, estimate_skew, ocr_image
from specimens import make_specimens, render_scan

DPI = 150


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    spec = make_specimens(1, seed=23)[0]
    path = render_scan(spec, tmp_path_factory.mktemp("scan") / "page.png", "png", dpi=DPI)
    with Image.open(path) as image:
        return spec, image.convert("L")


def body_words(spec, n: int = 6) -> list[str]:
    words = sorted({w.strip(".,;:()") for p in spec.body_paragraphs for w in p.split()}, key=len, reverse=True)
    return [fold(w) for w in words[:n]]


def recovered(text: str, spec) -> int:
    folded = fold(text)
    return sum(1 for w in body_words(spec) if w in folded)


@pytest.mark.ocr
@pytest.mark.parametrize("angle", [90, 180])
def test_a_page_scanned_on_its_side_or_upside_down_is_turned_upright(scan, angle):
    spec, straight = scan
    turned = straight.rotate(angle, expand=True, fillcolor=255)
    as_scanned = ocr_image(turned, correct=False)
    corrected = ocr_image(turned)
    assert recovered(as_scanned.text, spec) <= 1  # Tesseract alone reads noise
    assert recovered(corrected.text, spec) >= 5, corrected.text[:300]
    assert corrected.mean_confidence > as_scanned.mean_confidence + 15
    assert corrected.mean_confidence >= 80


@pytest.mark.ocr
def test_a_skewed_page_is_levelled_and_read_like_the_straight_one(scan):
    spec, straight = scan
    skewed = straight.rotate(3.2, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    assert estimate_skew(skewed) == pytest.approx(-3.2, abs=0.3)
    assert abs(estimate_skew(deskew(skewed))) < 0.3
    assert estimate_skew(straight) == pytest.approx(0, abs=0.2)
    reference = ocr_image(straight)
    result = ocr_image(skewed)
    assert recovered(result.text, spec) >= 5
    assert result.mean_confidence >= reference.mean_confidence - 5
