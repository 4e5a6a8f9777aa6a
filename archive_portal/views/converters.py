"""URL converters: an ``<int:…>`` beyond the database's integer range is a 404, not an overflow (500)."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # SQLite INTEGER and PostgreSQL BIGINT


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's ``int`` with a ceiling every id column can hold."""

    def __init__(
        self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)
