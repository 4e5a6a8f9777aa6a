"""XLSX: one page per sheet, a line per row (cells separated by tabs), openpyxl read-only."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .base import Extraction, ExtractionRefused, ExtractLimits, Extractor, register, text_extraction
from .sniff import XLSX

MAX_CELLS = 2_000_000  # a sheet is text for search, not data: stop reading beyond this


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@register(XLSX)
class XlsxExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        from openpyxl import load_workbook

        warnings: list[str] = []
        pages: list[str] = []
        handle = open(path, "rb")  # noqa: SIM115 - closed below once openpyxl is done; a file object: openpyxl would refuse a name not ending in .xlsx
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            handle.close()
            raise ExtractionRefused(f"XLSX hỏng, không đọc được (corrupt XLSX: {exc})") from None
        except Exception as exc:
            handle.close()
            raise ExtractionRefused(f"XLSX hỏng, không đọc được (corrupt XLSX: {type(exc).__name__})") from None
        try:
            cells = 0
            for sheet in workbook.worksheets:
                lines = [f"[{sheet.title}]"]
                for row in sheet.iter_rows(values_only=True):
                    cells += len(row)
                    values = [cell_text(v) for v in row]
                    if any(values):
                        lines.append("\t".join(values).rstrip("\t"))
                    if cells > MAX_CELLS:
                        warnings.append(f"bảng tính quá lớn: chỉ đọc {MAX_CELLS} ô đầu (spreadsheet truncated)")
                        break
                pages.append("\n".join(lines) if len(lines) > 1 else "")
                if cells > MAX_CELLS:
                    break
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ExtractionRefused(f"XLSX hỏng, không đọc được (corrupt XLSX: {exc})") from None
        finally:
            workbook.close()
            handle.close()
        return text_extraction(media_type, pages, warnings)
