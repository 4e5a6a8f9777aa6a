"""The search layer: one interface (``base``), one query builder (``query``), engines."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from archive_portal.settings import Settings

    from .base import SearchEngine


def open_engine(settings: "Settings") -> "SearchEngine":
    """The engine the settings name (``ARCHIVE_INDEX_ENGINE``), on the data home's index."""
    if settings.index_engine == "sqlite":
        from .sqlite_fts import SqliteFtsEngine

        return SqliteFtsEngine(settings.index_dir / "fts.sqlite")
    if settings.index_engine in ("opensearch", "elasticsearch"):
        from .opensearch import ClusterEngine

        return ClusterEngine(settings.search_url, flavour=settings.index_engine, alias=settings.search_index,
                             time_limit_ms=settings.search_timeout_ms)
    raise ValueError(f"unknown index engine: {settings.index_engine!r}")
