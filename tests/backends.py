"""The backend matrix of the portal and operations suites: one id per (database, search engine) pair.

``sqlite-fts``: SQLite and the embedded FTS5 engine (a data home on one machine).
``sqlite-tantivy``: SQLite and the embedded Tantivy engine (the same home, the index in ``index/tantivy``).
``postgresql-opensearch``: the run's PostgreSQL cluster and OpenSearch node (tests/conftest.py): a fresh
database and an index alias of its own for every archive a test opens.
"""
from __future__ import annotations

import pytest

from archive_core.context import Archive
from archive_core.settings import Settings
from tests.opensearch_node import unique_alias

SQLITE_FTS = "sqlite-fts"
SQLITE_TANTIVY = "sqlite-tantivy"
POSTGRESQL_OPENSEARCH = "postgresql-opensearch"
BACKENDS = (SQLITE_FTS, SQLITE_TANTIVY, POSTGRESQL_OPENSEARCH)
# The one backend of the tests that are not in a module's matrix: the default data home (SQLite + Tantivy).
# FTS5 keeps its portal and operations coverage through the matrix modules and the shared engine suite.
SINGLE = SQLITE_TANTIVY


def backend_overrides(request: pytest.FixtureRequest, backend: str) -> dict:
    """Settings overrides of ``backend`` (embedded engines: the home's own database file and index)."""
    if backend == SQLITE_FTS:
        return {"index_engine": "sqlite"}
    if backend == SQLITE_TANTIVY:
        return {"index_engine": "tantivy"}
    assert backend == POSTGRESQL_OPENSEARCH, backend
    node = request.getfixturevalue("opensearch_node")
    return {"database_url": request.getfixturevalue("postgres").database(), "index_engine": "opensearch",
            "search_url": node.url, "search_index": unique_alias("archive"), "search_timeout_ms": 30_000}


def archive_environment(settings: Settings) -> dict[str, str]:
    """The ``ARCHIVE_*`` environment under which an ``archive`` command opens the same archive as ``settings``."""
    return {"ARCHIVE_HOME": str(settings.home), "ARCHIVE_DATABASE_URL": settings.database_url,
            "ARCHIVE_INDEX_ENGINE": settings.index_engine, "ARCHIVE_SEARCH_URL": settings.search_url,
            "ARCHIVE_SEARCH_INDEX": settings.search_index, "ARCHIVE_SEARCH_TIMEOUT_MS": str(settings.search_timeout_ms),
            "ARCHIVE_SEARCH_EXACT_TOTAL_UP_TO": str(settings.search_exact_total_up_to),
            "ARCHIVE_SECRET_KEY": settings.secret_key}


def close_archive(archive: Archive) -> None:
    """Close the archive; a cluster index made for the test goes with it."""
    engine = archive.engine
    drop = getattr(engine, "drop", None)
    closed = getattr(engine, "_closed", False)  # the test closed it (and dropped its index) already
    if archive.settings.index_engine != "sqlite" and drop is not None and not closed:
        drop()
    archive.close()


def parametrize_backend(metafunc: pytest.Metafunc, on_both: bool) -> None:
    """Give a test that reaches a world the ``backend`` parameter: every id of ``BACKENDS`` when ``on_both``
    (the name is older than the third backend), or ``SINGLE`` alone."""
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", list(BACKENDS) if on_both else [SINGLE], indirect=True, scope="session")
