"""The only module that runs Tesseract: its flags, threads and failure modes live here.

One `image_to_data` call gives both the words (assembled in Tesseract's reading
order: block → paragraph → line) and their confidences; a second
`image_to_string` call would double the cost for the same text.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from PIL import Image

__all__ = ["OcrResult", "OcrUnavailable", "OcrFailed", "ocr_image", "check_languages", "prepare_image", "PREPROCESSORS"]

DEFAULT_LANGUAGES = "vie+eng"
# --oem 1: LSTM engine only; --psm 3: automatic page segmentation (no OSD).
_CONFIG = "--oem 1 --psm 3"
_TIMEOUT_S = 300


class OcrUnavailable(RuntimeError):
    """Tesseract or its language data is missing: a problem of the machine, not of the file."""


class OcrFailed(RuntimeError):
    """Tesseract ran but failed on this image."""


@dataclass
class OcrResult:
    text: str
    mean_confidence: float  # 0-100, mean over words with a confidence >= 0; 0.0 if no words


# Hook for orientation / deskew correction (a later issue): each callable takes and
# returns a PIL image and runs, in order, before Tesseract sees the page.
PREPROCESSORS: list[Callable[[Image.Image], Image.Image]] = []


def prepare_image(image: Image.Image) -> Image.Image:
    """Greyscale on white (alpha flattened), then the registered preprocessors."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode not in ("L", "1"):
        image = image.convert("L")
    for step in PREPROCESSORS:
        image = step(image)
    return image


def _tesseract():
    os.environ["OMP_THREAD_LIMIT"] = "1"  # one thread per process; parallelism is per page
    import pytesseract

    return pytesseract


@lru_cache(maxsize=8)
def _installed_languages() -> frozenset[str]:
    pytesseract = _tesseract()
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable(
            "Không tìm thấy Tesseract (tesseract is not installed or not on PATH; "
            "apt-get install tesseract-ocr tesseract-ocr-vie)"
        ) from exc


def check_languages(languages: str) -> None:
    """Raise OcrUnavailable if Tesseract or any of `languages` ('vie+eng') is missing."""
    wanted = [lang for lang in languages.split("+") if lang]
    if not wanted:
        raise ValueError("no OCR language given")
    missing = [lang for lang in wanted if lang not in _installed_languages()]
    if missing:
        raise OcrUnavailable(
            f"Thiếu dữ liệu ngôn ngữ Tesseract: {', '.join(missing)} "
            f"(missing traineddata; e.g. apt-get install tesseract-ocr-{missing[0]})"
        )


def _assemble(data: dict[str, list]) -> tuple[str, float]:
    """Words back into lines and paragraphs, in Tesseract's order; mean word confidence."""
    lines: list[str] = []
    current_key = None
    current_par = None
    words: list[str] = []
    confidences: list[float] = []
    for i, word in enumerate(data["text"]):
        conf = float(data["conf"][i])
        word = (word or "").strip()
        if conf < 0 or not word:
            continue
        confidences.append(conf)
        par = (data["page_num"][i], data["block_num"][i], data["par_num"][i])
        key = par + (data["line_num"][i],)
        if key != current_key:
            if words:
                lines.append(" ".join(words))
            words = []
            if current_par is not None and par != current_par:
                lines.append("")  # blank line between paragraphs and blocks
            current_key, current_par = key, par
        words.append(word)
    if words:
        lines.append(" ".join(words))
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return "\n".join(lines), mean


def ocr_image(image: Image.Image, languages: str = DEFAULT_LANGUAGES) -> OcrResult:
    """OCR one page image; text is NFC-normalised."""
    check_languages(languages)
    pytesseract = _tesseract()
    image = prepare_image(image)
    try:
        data = pytesseract.image_to_data(
            image, lang=languages, config=_CONFIG, output_type=pytesseract.Output.DICT, timeout=_TIMEOUT_S
        )
    except pytesseract.TesseractNotFoundError as exc:
        _installed_languages.cache_clear()
        raise OcrUnavailable("Không tìm thấy Tesseract (tesseract is not installed or not on PATH)") from exc
    except pytesseract.TesseractError as exc:
        raise OcrFailed(f"Tesseract lỗi (failed): {exc.message or exc}") from exc
    except RuntimeError as exc:  # pytesseract's timeout (TesseractError is also a RuntimeError)
        raise OcrFailed(f"Tesseract quá thời gian (timed out after {_TIMEOUT_S}s)") from exc
    text, mean = _assemble(data)
    return OcrResult(text=unicodedata.normalize("NFC", text), mean_confidence=round(mean, 2))
