"""Fonts that cover Vietnamese, for everything the archive draws (stamps, rendered pages).

The old ``fonts-liberation`` package lacks ơ, ư, ạ … ỹ and would silently draw boxes, so
every candidate is probed for those glyphs before it is used.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["FontNotFound", "find_fonts"]

_FONT_CANDIDATES: list[tuple[str, str, str]] = [
    (
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf",
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
    ),
]
_VIETNAMESE_PROBE = "ơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐđ"


class FontNotFound(RuntimeError):
    """No installed TrueType font covers Vietnamese."""


def find_fonts() -> tuple[str, str, str]:
    """Paths of (regular, bold, italic) fonts covering Vietnamese; FontNotFound if none."""
    tried = []
    for regular, bold, italic in _FONT_CANDIDATES:
        tried.append(regular)
        if not (Path(regular).exists() and Path(bold).exists()):
            continue
        cmap = TTFont("probe", regular).face.charToGlyph
        if all(ord(c) in cmap for c in _VIETNAMESE_PROBE):
            return regular, bold, italic if Path(italic).exists() else regular
    raise FontNotFound(
        "Không tìm thấy phông chữ hỗ trợ tiếng Việt (no Vietnamese-capable font; "
        "install fonts-liberation2 or fonts-dejavu-core). Tried: " + ", ".join(tried)
    )
