"""Suite-wide rules.

``ARCHIVE_TEST_STRICT=1`` (set by ``make test``, the gate CI runs) turns every skipped test into
a failed run: a tool or server the suite needs but cannot find is an install bug, never a
reason to prove less.  The quick lanes (``make test-fast``) leave it unset.
"""
from __future__ import annotations

import os

import pytest


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
