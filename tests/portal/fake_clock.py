"""ARCHIVE_TEST_FAKE_NOW=2026-12-02T23:30:00Z runs a test module at that moment, the clock ticking on from it.

Import ``faked_now`` into a module (it is autouse, session-scoped so that it starts before the shared world
and its signed-in clients). With ``TZ=Asia/Ho_Chi_Minh`` this is 06:30 the next day on the machine and in
Hà Nội while UTC is still the day before: tests must read "today" as the code does (``archive_core.clock``).
"""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def faked_now():
    moment = os.environ.get("ARCHIVE_TEST_FAKE_NOW")
    if not moment:
        yield
        return
    time_machine = pytest.importorskip("time_machine")
    with time_machine.travel(moment, tick=True):
        yield
