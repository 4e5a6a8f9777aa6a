"""Spreadsheet cells that cannot run: every CSV and XLSX the archive writes goes through here.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
as a formula by Excel and LibreOffice (CSV injection, OWASP): a failed sign-in's
user name, a file name in a package or an official's name could then read other
cells (an initial password) or call out. Such a text is written with a leading
apostrophe, which spreadsheets show as text and do not display; numbers, dates
and every other text are written unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "csv_writer", "safe_cell", "safe_row"]


def safe_cell(value: Any) -> Any:
    """``value``, or for a text a spreadsheet would evaluate, the same text behind an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


class SafeCsvWriter:
    """``csv.writer`` whose every row is neutralised first."""

    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: Any, **options: Any) -> SafeCsvWriter:
    """The only way the archive writes CSV (``csv.writer`` options pass through)."""
    return SafeCsvWriter(stream, **options)
