"""The search engine a data home's settings name (``ARCHIVE_INDEX_ENGINE``, default ``tantivy``)."""

from __future__ import annotations

from indexes.base import SearchEngine
from indexes.opensearch import ClusterEngine
from indexes.sqlite_fts import SqliteFtsEngine
from indexes.tantivy_engine import TantivyEngine

from .settings import Settings

ENGINE_NAMES = ("tantivy", "sqlite", "opensearch", "elasticsearch")


def open_engine(settings: Settings) -> SearchEngine:
    """The engine the settings name, on the data home's index (embedded) or the cluster.

    ``tantivy`` (the default) in ``index/tantivy``: block-max top-k and fast-field facets answer a
    province in milliseconds; totals above ``search_exact_total_up_to`` are lower bounds from a sample.
    ``sqlite`` (FTS5) in ``index/fts.sqlite``: exact counts always, seconds at a million documents.
    ``opensearch``/``elasticsearch``: the cluster, with the same lower-bound totals as Tantivy."""
    if settings.index_engine == "sqlite":
        return SqliteFtsEngine(settings.index_dir / "fts.sqlite", time_limit_ms=settings.search_timeout_ms)
    if settings.index_engine == "tantivy":
        return TantivyEngine(
            settings.index_dir / "tantivy",
            time_limit_ms=settings.search_timeout_ms,
            estimate_above=settings.search_exact_total_up_to or None,
        )
    if settings.index_engine in ("opensearch", "elasticsearch"):
        return ClusterEngine(
            settings.search_url,
            flavour=settings.index_engine,
            alias=settings.search_index,
            time_limit_ms=settings.search_timeout_ms,
            estimate_above=settings.search_exact_total_up_to or None,
        )
    raise ValueError(f"unknown index engine: {settings.index_engine!r}")
