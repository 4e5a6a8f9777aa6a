"""ODT (OpenDocument text): headings and paragraphs in document order, with odfpy."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .base import Extraction, ExtractionRefused, ExtractLimits, Extractor, register, text_extraction
from .sniff import ODT


def _walk(node, out: list[str]) -> None:
    from odf import teletype
    from odf.namespaces import TEXTNS

    for child in node.childNodes:
        if child.nodeType != child.ELEMENT_NODE:
            continue
        if child.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
            out.append(teletype.extractText(child))
        else:
            _walk(child, out)


@register(ODT)
class OdtExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        from odf.opendocument import load

        try:
            document = load(str(path))
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ExtractionRefused(f"ODT hỏng, không đọc được (corrupt ODT: {exc})") from None
        except Exception as exc:  # expat errors on damaged XML
            raise ExtractionRefused(f"ODT hỏng, không đọc được (corrupt ODT: {type(exc).__name__})") from None
        lines: list[str] = []
        _walk(document.text, lines)
        return text_extraction(media_type, ["\n".join(lines)])
