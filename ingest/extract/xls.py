"""XLS (Excel 97-2003): one page per sheet, with xlrd."""

from __future__ import annotations

from pathlib import Path

from .base import Extraction, ExtractionRefused, ExtractLimits, Extractor, register, text_extraction
from .sniff import XLS
from .xlsx import MAX_CELLS, cell_text


@register(XLS)
class XlsExtractor(Extractor):
    def extract(self, path: Path, media_type: str, limits: ExtractLimits) -> Extraction:
        import xlrd

        try:
            book = xlrd.open_workbook(str(path), on_demand=True)
        except xlrd.biffh.XLRDError as exc:
            if "encrypt" in str(exc).lower():
                raise ExtractionRefused("XLS có mật khẩu (password-protected workbook)") from None
            raise ExtractionRefused(f"XLS hỏng, không đọc được (corrupt XLS: {exc})") from None
        except Exception as exc:  # xlrd raises assorted errors on damaged BIFF records
            raise ExtractionRefused(f"XLS hỏng, không đọc được (corrupt XLS: {type(exc).__name__}: {exc})") from None
        warnings: list[str] = []
        pages: list[str] = []
        cells = 0
        try:
            for index in range(book.nsheets):
                sheet = book.sheet_by_index(index)
                lines = [f"[{sheet.name}]"]
                for r in range(sheet.nrows):
                    values = [cell_text(v) for v in sheet.row_values(r)]
                    cells += len(values)
                    if any(values):
                        lines.append("\t".join(values).rstrip("\t"))
                    if cells > MAX_CELLS:
                        warnings.append(f"bảng tính quá lớn: chỉ đọc {MAX_CELLS} ô đầu (spreadsheet truncated)")
                        break
                pages.append("\n".join(lines) if len(lines) > 1 else "")
                book.unload_sheet(index)
                if cells > MAX_CELLS:
                    break
        except Exception as exc:
            raise ExtractionRefused(f"XLS hỏng, không đọc được (corrupt XLS: {type(exc).__name__}: {exc})") from None
        finally:
            book.release_resources()
        return text_extraction(media_type, pages, warnings)
