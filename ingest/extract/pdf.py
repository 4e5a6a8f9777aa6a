"""PDF: the text layer page by page; a page without usable text is rendered and OCR'd."""

from __future__ import annotations

import logging
from pathlib import Path

from archive_core.pages import PageRefused, open_pdf, render_pdf_page, signature_free

from ..metadata.layout import textpage_layout
from ..ocr import OcrFailed, ocr_image
from .base import (
    ExtractedPage,
    Extraction,
    ExtractionRefused,
    ExtractLimits,
    Extractor,
    has_letters,
    letter_count,
    nfc,
    register,
)

log = logging.getLogger(__name__)

_EOF_WINDOW = 8192


def _check_complete(path: Path) -> None:
    """A PDF whose last bytes hold no %%EOF was cut short (PDFium would silently repair it)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - _EOF_WINDOW))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise ExtractionRefused("PDF hỏng: tệp bị cắt cụt, thiếu %%EOF (truncated PDF)")


def _open(path: Path):
    try:
        return open_pdf(path)
    except PageRefused as refused:
        raise ExtractionRefused(refused.reason) from None


def _page_text(page, limits: ExtractLimits, layout: list | None) -> tuple[str, bool]:
    """The page's text layer, and whether it has letters enough to stand without OCR; with ``layout``
    given (the first page), its positioned words' layout is appended to it when the page has text
    enough, read from the same text page."""
    textpage = page.get_textpage()
    try:
        raw = textpage.get_text_range()
        text = nfc(raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
        enough = has_letters(text, limits.min_text_chars)
        if layout is not None and enough:
            width, height = page.get_size()
            try:
                layout.append(textpage_layout(textpage, width, height, raw))
            except Exception as exc:  # the text is what counts; the metadata reader does without positions
                log.warning("không đọc được vị trí chữ trang 1: %s", exc)
    finally:
        textpage.close()
    return text, enough


def _render(page, limits: ExtractLimits, number: int, warnings: list[str]):
    """Greyscale PIL image of the page at limits.dpi, scaled down to fit max_image_pixels."""
    rendered = render_pdf_page(page, limits.dpi, max_pixels=limits.max_image_pixels)
    if rendered.reduced:
        warnings.append(
            f"trang {number}: trang rất lớn, OCR ở {round(rendered.dpi)} dpi thay vì {limits.dpi} (page too large)"
        )
    return rendered.image


@register("application/pdf")
class PdfExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        _check_complete(path)
        pdf = _open(path)
        warnings: list[str] = []
        pages: list[ExtractedPage] = []
        first_layout: list = []  # the first page's layout, read with its text (for the metadata reader)
        unsigned = False
        try:
            count = len(pdf)
            if count == 0:
                raise ExtractionRefused("PDF hỏng: không có trang nào (PDF has no pages)")
            if count > limits.max_pages:
                raise ExtractionRefused(f"PDF quá nhiều trang: {count} > {limits.max_pages} (too many pages)")
            for i in range(count):
                number = i + 1
                try:
                    page = pdf[i]
                except Exception as exc:  # PdfiumError on a broken page object
                    warnings.append(f"trang {number}: không đọc được ({exc})")
                    pages.append(ExtractedPage(number, "", "none"))
                    continue
                try:
                    wanted = i == 0 and limits.first_page_layout
                    text, enough = _page_text(page, limits, first_layout if wanted else None)
                    if enough:
                        pages.append(ExtractedPage(number, text, "text"))
                        continue
                    image = _render(page, limits, number, warnings)
                finally:
                    page.close()
                try:
                    result = ocr_image(image, limits.ocr_languages)
                except OcrFailed as exc:
                    warnings.append(f"trang {number}: OCR thất bại ({exc})")
                    pages.append(ExtractedPage(number, text, "text" if text else "none"))
                    continue
                finally:
                    del image
                if letter_count(result.text) > letter_count(text) or (result.text and not text):
                    pages.append(ExtractedPage(number, result.text, "ocr", result.mean_confidence, result.word_boxes()))
                elif text:
                    pages.append(ExtractedPage(number, text, "text"))
                else:
                    pages.append(ExtractedPage(number, "", "none", result.mean_confidence))
            unsigned = signature_free(pdf, path)  # while it is open: the signature check need not open it again
        finally:
            pdf.close()
        _fix_legacy_text_layer(pages, warnings)
        layout = first_layout[0] if first_layout and pages[0].method == "text" else None
        return Extraction(media_type, pages, warnings, first_page_layout=layout, signature_free=unsigned)


def _fix_legacy_text_layer(pages: list[ExtractedPage], warnings: list[str]) -> None:
    """A PDF typeset in .VnTime/VNI fonts has a text layer of TCVN3/VNI codes: convert it."""
    from ingest.encodings import conversion_note, fix_legacy_texts

    layer = [p for p in pages if p.method == "text"]
    if not layer:
        return
    texts, found = fix_legacy_texts([p.text for p in layer], pdf=True)
    if found:
        for page, text in zip(layer, texts, strict=False):
            page.text = text
        warnings.append(conversion_note(found))
