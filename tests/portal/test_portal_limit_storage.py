"""The rate limits' in-process store between a worker's threads: no request fails and no timer thread
dies when many threads count, read and expire keys at once (limits' own MemoryStorage did both)."""
from __future__ import annotations

import sys
import threading
import time

import pytest

from archive_portal.auth.limit_storage import LockedMemoryStorage


@pytest.fixture
def thread_errors(monkeypatch):
    """Exceptions of any thread (the store's timers included) and of thread bootstraps."""
    errors: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(repr(args.exc_value)))
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: errors.append(repr(hook.exc_value)))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show within a second
    yield errors
    sys.setswitchinterval(interval)


def test_many_threads_counting_and_expiring_keys_break_nothing(thread_errors):
    storage = LockedMemoryStorage()
    counted = [0] * 8

    def official(n: int) -> None:
        end = time.monotonic() + 1.5
        i = 0
        while time.monotonic() < end:
            key = f"search/{n}/{i % 40}"
            try:
                storage.incr(key, 0.02)  # expires almost at once: the sweeps run all the time
                storage.get(key)
                if i % 7 == 0:
                    storage.clear(key)
                counted[n] += 1
            except Exception as error:  # a request would have failed
                thread_errors.append(f"request: {error!r}")
            i += 1

    threads = [threading.Thread(target=official, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.1)  # the last sweep
    assert thread_errors == []
    assert all(counted)
    assert storage.get("search/0/1") == 0  # expired keys are gone


def test_a_key_counts_up_to_its_limit_and_expires():
    storage = LockedMemoryStorage()
    assert [storage.incr("login/1.2.3.4", 0.3) for _ in range(3)] == [1, 2, 3]
    assert storage.get("login/1.2.3.4") == 3
    time.sleep(0.4)
    assert storage.get("login/1.2.3.4") == 0


def test_the_portal_counts_in_that_store_by_default(tmp_path):
    from archive_core.context import Archive
    from archive_core.settings import Settings
    from archive_portal import create_app
    from archive_portal.auth.limits import limiter

    home = tmp_path / "home"
    archive = Archive.open(Settings.load(home=home, secret_key="limits", database_url=f"sqlite:///{home / 'a.sqlite'}"))
    try:
        app = create_app(archive=archive)
        with app.app_context():
            assert isinstance(limiter.storage, LockedMemoryStorage)
    finally:
        archive.close()
