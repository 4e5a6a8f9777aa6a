"""The only module that runs Tesseract: its flags, threads and failure modes live here.

One TSV reading gives both the words (assembled in Tesseract's reading
order: block → paragraph → line) and their confidences; a second plain-text
reading would double the cost for the same text.  Tesseract runs through the
archive's runner of programs (time limit, missing-program message); the page
goes to it as an uncompressed PNM file (no PNG compression per page).
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image

from archive_core import programs
from indexes.fold import fold

__all__ = [
    "OcrResult",
    "OcrUnavailable",
    "OcrFailed",
    "ocr_image",
    "check_languages",
    "prepare_image",
    "PREPROCESSORS",
    "estimate_skew",
    "deskew",
    "detect_rotation",
    "OcrWord",
]

DEFAULT_LANGUAGES = "vie"  # `vie` alone keeps Đ and tones that `vie+eng` loses (bench.metadata_real_bench)
# --oem 1: LSTM engine only; --psm 3: automatic page segmentation (no OSD).
_READ_ARGS = ["--oem", "1", "--psm", "3", "tsv"]
_OSD_ARGS = ["-l", "osd", "--psm", "0"]
_ENV = {"OMP_THREAD_LIMIT": "1"}  # one thread per process; parallelism is per page
_TIMEOUT_S = 300


class OcrUnavailable(RuntimeError):
    """Tesseract or its language data is missing: a problem of the machine, not of the file."""


class OcrFailed(RuntimeError):
    """Tesseract ran but failed on this image."""


@dataclass(frozen=True)
class OcrWord:
    """One word and its box in pixels of the image Tesseract read (after deskew)."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float


@dataclass
class OcrResult:
    text: str
    mean_confidence: float  # 0-100, mean over words with a confidence >= 0; 0.0 if no words
    # The words with their boxes, for reading a page's layout (header columns) as a person sees it.
    words: list[OcrWord] = field(default_factory=list)
    size: tuple[int, int] = (0, 0)  # width, height of the image the boxes refer to

    def word_boxes(self) -> dict | None:
        """The words and boxes kept with the page (``page.word_boxes``), so a viewer can mark a hit on the scan."""
        if not self.words or not all(self.size):
            return None
        return {
            "w": self.size[0],
            "h": self.size[1],
            "words": [[w.text, w.left, w.top, w.width, w.height] for w in self.words],
        }


# ------------------------------------------------------------------ page geometry

_SKEW_MAX_DEG = 6.0
_SKEW_MIN_DEG = 0.3  # below this Tesseract copes and resampling would only blur
_SKEW_WORK_PX = 1000  # the estimate runs on a copy no larger than this
# Orientation (Tesseract OSD, ~2-4 s a page) is checked only when the first reading is poor
# (an upright page reads at 80-95) and does not read as Vietnamese: a noisy upright scan reads
# under 70 but its words are still syllables (98 % on generated scans); a page upside down or on
# its side reads as noise (45-50 % syllables).  So a poor but upright page costs no OSD run.
ORIENTATION_RETRY_BELOW = 70.0
SYLLABLES_UPRIGHT = 0.7  # share of a reading's words that are Vietnamese syllables when the page is upright
_OSD_MIN_CONFIDENCE = 1.0
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?"
    r"(uye|uya|oai|oay|uay|uoi|uou|ieu|yeu|[aeiouy]{1,3})(ch|ng|nh|[cmnpt])?$"
)
_ACRONYM_MAX = 6  # UBND, HĐND, QĐ…: upper-case words this short count as text


def estimate_skew(image: Image.Image) -> float:
    """Angle (degrees, counter-clockwise) that makes the text lines horizontal.

    Projection profile on a downscaled, binarised copy: the rotation whose row
    sums change most sharply from line to gap is the one that levels the lines.
    The ink pixels' coordinates are turned, not the image (4x less CPU than
    rotating the mask for each of the 36 angles tried, the same angles found).
    """
    import numpy as np

    grey = image.convert("L")
    factor = _SKEW_WORK_PX / max(grey.size)
    if factor < 1:
        grey = grey.resize((max(1, int(grey.width * factor)), max(1, int(grey.height * factor))), Image.Resampling.BOX)
    pixels = np.asarray(grey)
    ink = pixels < min(160, int(pixels.mean()) - 30)
    if ink.mean() < 0.002:
        return 0.0
    rows, columns = np.nonzero(ink)
    y = rows.astype(np.float32) - pixels.shape[0] / 2
    x = columns.astype(np.float32) - pixels.shape[1] / 2
    span = int(np.hypot(*pixels.shape)) + 2

    def sharpness(angle: float) -> float:
        theta = np.deg2rad(angle)  # the row each ink pixel lands on once the page is turned by ``angle``
        turned = np.rint(y * np.cos(theta) - x * np.sin(theta)).astype(np.int64) + span // 2
        profile = np.bincount(turned, minlength=span).astype(np.float64)
        return float(np.square(np.diff(profile)).sum())

    coarse = max(np.arange(-_SKEW_MAX_DEG, _SKEW_MAX_DEG + 0.01, 0.5), key=sharpness)
    fine = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=sharpness)
    return round(float(fine), 2)


def deskew(image: Image.Image) -> Image.Image:
    """Rotate a skewed scan (up to ±6°) so its lines are level; straight pages are returned as they are."""
    angle = estimate_skew(image)
    if abs(angle) < _SKEW_MIN_DEG:
        return image
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    fill = 255 if image.mode == "L" else (255, 255, 255)
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def detect_rotation(image: Image.Image) -> int:
    """Clockwise degrees (0/90/180/270) that put the page upright, by Tesseract's OSD; 0 if unsure."""
    try:
        output = _tesseract(image, _OSD_ARGS)
    except programs.ProgramMissing as exc:
        raise OcrUnavailable(str(exc)) from exc
    except programs.ProgramError:  # too little text to tell, OSD data missing, or too slow
        return 0
    osd = dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)
    try:
        confidence, rotate = float(osd.get("Orientation confidence", 0)), int(osd.get("Rotate", 0))
    except ValueError:
        return 0
    if confidence < _OSD_MIN_CONFIDENCE:
        return 0
    return rotate % 360


def _rotate_upright(image: Image.Image, clockwise: int) -> Image.Image:
    return image.rotate(-clockwise, expand=True, fillcolor=255 if image.mode == "L" else 0)


# Each callable takes and returns a PIL image and runs, in order, before Tesseract sees
# the page (orientation is handled in `ocr_image`, see ORIENTATION_RETRY_BELOW).
PREPROCESSORS: list[Callable[[Image.Image], Image.Image]] = [deskew]


def prepare_image(image: Image.Image) -> Image.Image:
    """Greyscale on white (alpha flattened), then the registered preprocessors."""
    return _preprocess(_flatten(image))


def _preprocess(image: Image.Image) -> Image.Image:
    for step in PREPROCESSORS:
        image = step(image)
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Greyscale on white, alpha flattened."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode not in ("L", "1"):
        image = image.convert("L")
    return image


def _tesseract(image: Image.Image, args: list[str]) -> str:
    """Tesseract's output for ``image``, given as an uncompressed PNM in a temporary file.

    Not on stdin: Tesseract reads stdin a character at a time, which cost ~0.2 s of CPU per A4
    page at 300 dpi (14 % of the reading itself, bench/ingest_ratio's pages); a file it reads at once."""
    with tempfile.NamedTemporaryFile(prefix="ocr-", suffix=".pnm") as page:
        image.save(page, format="PPM")  # PIL writes greyscale as PGM and bilevel as PBM
        page.flush()
        done = programs.run("tesseract", [page.name, "stdout", *args], timeout=_TIMEOUT_S, env=_ENV)
    return done.stdout.decode("utf-8", errors="replace")


def _tsv(output: str) -> dict[str, list]:
    """Tesseract's TSV as columns; numbers as integers (confidences truncated, as pytesseract did)."""
    rows = [row.split("\t") for row in output.strip().split("\n")]
    if len(rows) < 2:
        return {"text": []}
    header = rows.pop(0)
    data: dict[str, list] = {name: [] for name in header}
    for row in rows:
        row += [""] * (len(header) - len(row))
        for name, value in zip(header, row, strict=False):
            data[name].append(value if name == "text" else int(float(value)))
    return data


@lru_cache(maxsize=8)
def _installed_languages() -> frozenset[str]:
    try:
        return programs.tesseract_languages()
    except programs.ProgramError as exc:
        raise OcrUnavailable(str(exc)) from exc


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


def ocr_image(image: Image.Image, languages: str = DEFAULT_LANGUAGES, *, correct: bool = True) -> OcrResult:
    """OCR one page image; text is NFC-normalised.

    With `correct` (the default) the PREPROCESSORS (deskew) run first, and a poor
    reading is retried with the page turned upright by Tesseract's OSD.
    `correct=False` gives Tesseract the page as scanned.
    """
    check_languages(languages)
    base = _flatten(image)
    if not correct:
        return _read(base, languages)
    result = _read(_preprocess(base), languages)
    if result.mean_confidence < ORIENTATION_RETRY_BELOW and not _reads_as_vietnamese(result.text, languages):
        rotation = detect_rotation(base)
        if rotation:
            retry = _read(_preprocess(_rotate_upright(base, rotation)), languages)
            if retry.mean_confidence > result.mean_confidence:
                result = retry
    return result


def _reads_as_vietnamese(text: str, languages: str) -> bool:
    """Whether a reading is words, not noise: most of its words are Vietnamese syllables (or acronyms).

    Only for Vietnamese OCR; other languages keep the OSD check of every poor reading."""
    if "vie" not in languages.split("+"):
        return False
    tokens = [t for t in (re.sub(r"[^\w]", "", word) for word in text.split()) if t and not t.isdigit()]
    if not tokens:
        return False
    syllables = sum(1 for t in tokens if _SYLLABLE.match(fold(t)) or (t.isupper() and len(t) <= _ACRONYM_MAX))
    return syllables / len(tokens) >= SYLLABLES_UPRIGHT


def _read(image: Image.Image, languages: str) -> OcrResult:
    try:
        data = _tsv(_tesseract(image, ["-l", languages, *_READ_ARGS]))
    except programs.ProgramMissing as exc:
        _installed_languages.cache_clear()
        raise OcrUnavailable(str(exc)) from exc
    except programs.ProgramTimedOut as exc:
        raise OcrFailed(f"Tesseract quá thời gian (timed out after {_TIMEOUT_S}s)") from exc
    except programs.ProgramFailed as exc:
        raise OcrFailed(f"Tesseract lỗi (failed): {exc.stderr or exc}") from exc
    text, mean = _assemble(data)
    words = [
        OcrWord(
            unicodedata.normalize("NFC", w.strip()),
            int(data["left"][i]),
            int(data["top"][i]),
            int(data["width"][i]),
            int(data["height"][i]),
            float(data["conf"][i]),
        )
        for i, w in enumerate(data["text"])
        if (w or "").strip() and float(data["conf"][i]) >= 0
    ]
    return OcrResult(
        text=unicodedata.normalize("NFC", text), mean_confidence=round(mean, 2), words=words, size=image.size
    )
