"""The shared-database tests: a real PostgreSQL cluster started for the run (tests/conftest.py), and SQLite beside it."""
from __future__ import annotations

import pytest


@pytest.fixture()
def pg_url(postgres) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return postgres.database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The same test on SQLite (a file in the test's dir) and on PostgreSQL (a fresh database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.sqlite'}"
    return request.getfixturevalue("pg_url")
