"""Raster images (TIFF multi-page, JPEG, PNG): every frame is OCR'd, one at a time."""

from __future__ import annotations

import warnings as pywarnings
from pathlib import Path

from .base import ExtractedPage, Extraction, ExtractionRefused, ExtractLimits, Extractor, register

_BOMB = "ảnh quá lớn: {w}×{h} = {px} điểm ảnh > {limit} (decompression bomb refused)"


def _check_size(im, limits: ExtractLimits, frame: int) -> None:
    w, h = im.size
    if w * h > limits.max_image_pixels:
        where = f"khung {frame}: " if frame > 1 else ""
        raise ExtractionRefused(where + _BOMB.format(w=w, h=h, px=w * h, limit=limits.max_image_pixels))


@register("image/tiff", "image/jpeg", "image/png")
class ImageExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        from PIL import Image, UnidentifiedImageError

        from ingest.ocr import OcrFailed, ocr_image

        pages: list[ExtractedPage] = []
        notes: list[str] = []
        with pywarnings.catch_warnings():
            # Our own limit decides; Pillow's warning/error only backs it up.
            pywarnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                im = Image.open(path)  # reads the header only; nothing decoded yet
            except Image.DecompressionBombError as exc:
                raise ExtractionRefused(f"ảnh quá lớn (decompression bomb refused): {exc}") from None
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
                raise ExtractionRefused(f"ảnh hỏng, không đọc được (corrupt image: {exc})") from None
            with im:
                frames = getattr(im, "n_frames", 1)
                if frames > limits.max_pages:
                    raise ExtractionRefused(f"ảnh quá nhiều trang: {frames} > {limits.max_pages} (too many pages)")
                for index in range(frames):
                    number = index + 1
                    try:
                        im.seek(index)  # reads this frame's header (IFD) only
                        _check_size(im, limits, number)
                        im.load()
                        frame = im.copy()
                    except ExtractionRefused:
                        raise
                    except Image.DecompressionBombError as exc:
                        raise ExtractionRefused(f"ảnh quá lớn (decompression bomb refused): {exc}") from None
                    except (OSError, SyntaxError, ValueError, EOFError) as exc:
                        if not pages and frames == 1:
                            raise ExtractionRefused(f"ảnh hỏng, không đọc được (corrupt image: {exc})") from None
                        notes.append(f"trang {number}: không giải mã được ({exc})")
                        pages.append(ExtractedPage(number, "", "none"))
                        continue
                    try:
                        result = ocr_image(frame, limits.ocr_languages)
                    except OcrFailed as exc:
                        notes.append(f"trang {number}: OCR thất bại ({exc})")
                        pages.append(ExtractedPage(number, "", "none"))
                        continue
                    finally:
                        del frame
                    method = "ocr" if result.text.strip() else "none"
                    pages.append(ExtractedPage(number, result.text, method, result.mean_confidence))
        return Extraction(media_type, pages, notes)
