"""``documents.xlsx``: the first sheet, first row as header, read in streaming mode."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from . import RawRows, register


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@register(".xlsx")
def read_xlsx(path: Path, warnings: list[str]) -> RawRows:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_cell_text(h) for h in next(rows, [])]
        for values in rows:
            if values is None or all(v in (None, "") for v in values):
                continue
            yield {header[i] if i < len(header) else f"cot_{i + 1}": _cell_text(v) for i, v in enumerate(values)}
    finally:
        workbook.close()
