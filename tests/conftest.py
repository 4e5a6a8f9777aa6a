"""Suite-wide rules.

``ARCHIVE_TEST_STRICT=1`` (set by ``make test``, the gate CI runs) turns every skipped test into
a failed run: a tool or server the suite needs but cannot find is an install bug, never a
reason to prove less.  The quick lanes (``make test-fast``) leave it unset.
"""
from __future__ import annotations

import os

import pytest

from tests.opensearch_node import Node
from tests.postgres_server import PostgresServer, postgres_wanted


def _strict() -> bool:
    return os.environ.get("ARCHIVE_TEST_STRICT") == "1"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _strict():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if _strict() and skipped:
        terminalreporter.section("skipped tests fail the strict run (ARCHIVE_TEST_STRICT=1)", red=True)
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            terminalreporter.line(f"{report.nodeid}: {reason}")


# One PostgreSQL cluster and one OpenSearch node per run, shared by every folder that needs them
# (indexes, shared_db, portal, ops): started on first use, stopped at the end.
@pytest.fixture(scope="session")
def opensearch_node(tmp_path_factory):
    """One real OpenSearch node for the whole run, started on loopback and stopped at the end."""
    node = Node(tmp_path_factory.mktemp("opensearch-node"))
    yield node
    node.stop()


@pytest.fixture(scope="session")
def postgres():
    if not postgres_wanted():
        pytest.skip("ARCHIVE_TEST_POSTGRES=0: PostgreSQL tests not run")
    server = PostgresServer()  # raises (the run fails) when the cluster cannot start
    yield server
    server.stop()
