"""The shared-database tests: a real PostgreSQL cluster started for the run, and SQLite beside it."""
from __future__ import annotations

import pytest

from tests.postgres_server import PostgresServer, postgres_wanted


@pytest.fixture(scope="session")
def postgres():
    if not postgres_wanted():
        pytest.skip("ARCHIVE_TEST_POSTGRES=0: PostgreSQL tests not run")
    server = PostgresServer()  # raises (the run fails) when the cluster cannot start
    yield server
    server.stop()


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
