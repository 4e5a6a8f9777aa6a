"""Raster images (TIFF multi-page, JPEG, PNG): every frame is OCR'd, one at a time."""

from __future__ import annotations

from pathlib import Path

from archive_core.pages import PageRefused, frame_count, load_frame, open_image

from ..ocr import OcrFailed, ocr_image
from .base import ExtractedPage, Extraction, ExtractionRefused, ExtractLimits, Extractor, register


@register("image/tiff", "image/jpeg", "image/png")
class ImageExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        pages: list[ExtractedPage] = []
        notes: list[str] = []
        try:
            im = open_image(path)  # reads the header only; nothing decoded yet
        except PageRefused as refused:
            raise ExtractionRefused(refused.reason) from None
        with im:
            frames = frame_count(im)
            if frames > limits.max_pages:
                raise ExtractionRefused(f"ảnh quá nhiều trang: {frames} > {limits.max_pages} (too many pages)")
            for index in range(frames):
                number = index + 1
                try:
                    frame = load_frame(im, index, max_pixels=limits.max_image_pixels)
                except PageRefused as refused:
                    raise ExtractionRefused(refused.reason) from None
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
                pages.append(ExtractedPage(number, result.text, method, result.mean_confidence, result.word_boxes()))
        return Extraction(media_type, pages, notes)
