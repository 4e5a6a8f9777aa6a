"""A PDF as a reader gets it: each page's text and each page as a viewer shows it (pdfium)."""
from __future__ import annotations

import pypdfium2 as pdfium
from PIL import Image


def page_texts(data: bytes) -> list[str]:
    """Each page's text, as pdfium extracts it."""
    pdf = pdfium.PdfDocument(data)
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def renders(data: bytes, scale: float = 1.0) -> list[Image.Image]:
    """Each page as a viewer shows it: the visible box, rotation applied."""
    pdf = pdfium.PdfDocument(data)
    try:
        return [page.render(scale=scale).to_pil().convert("RGB") for page in pdf]
    finally:
        pdf.close()
