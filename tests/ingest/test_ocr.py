"""ingest.ocr against the real Tesseract."""

from __future__ import annotations

import pytest
from PIL import Image

from ingest.metadata import fold
from ingest.ocr import OcrUnavailable, _assemble, check_languages, ocr_image, prepare_image
from specimens import make_specimens, render_scan


def test_missing_language_data_is_a_clear_error():
    with pytest.raises(OcrUnavailable, match="xyz"):
        check_languages("vie+xyz")
    check_languages("vie+eng")


def test_words_are_assembled_in_reading_order():
    data = {
        "text": ["", "Số:", "74/KH-UBND", "Kế", "hoạch", "x"],
        "conf": [-1, 90, 80, 70, 60, -1],
        "page_num": [1] * 6,
        "block_num": [1, 1, 1, 2, 2, 2],
        "par_num": [1] * 6,
        "line_num": [1, 1, 1, 1, 1, 1],
    }
    text, mean = _assemble(data)
    assert text == "Số: 74/KH-UBND\n\nKế hoạch"
    assert mean == 75


def test_transparent_images_are_flattened_on_white():
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert prepare_image(rgba).getpixel((0, 0)) == 255


@pytest.mark.ocr
def test_ocr_image_reads_vietnamese(tmp_path):
    spec = make_specimens(1, seed=3)[0]
    image = Image.open(render_scan(spec, tmp_path / "p.png", "png", dpi=150))
    result = ocr_image(image, "vie+eng")
    assert 0 < result.mean_confidence <= 100
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in result.text
    assert fold(spec.body_paragraphs[0]).split()[3] in fold(result.text)
