"""DOCX (Word 2007+): paragraphs and tables in document order, with python-docx."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .base import Extraction, ExtractionRefused, ExtractLimits, Extractor, register, text_extraction
from .sniff import DOCX


def _body_text(document) -> str:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if text and (not cells or cells[-1] != text):  # merged cells repeat
                        cells.append(text)
                if cells:
                    lines.append("\t".join(cells))
    return "\n".join(lines)


@register(DOCX)
class DocxExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(str(path))
            text = _body_text(document)
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ExtractionRefused(f"DOCX hỏng, không đọc được (corrupt DOCX: {exc})") from None
        except Exception as exc:  # lxml's XMLSyntaxError and friends on damaged parts
            raise ExtractionRefused(f"DOCX hỏng, không đọc được (corrupt DOCX: {type(exc).__name__})") from None
        return text_extraction(media_type, [text])
