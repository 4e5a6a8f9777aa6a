"""Times: stored UTC, read in Hà Nội time; a typed expiry day is a Hà Nội day (tests at 23:30 UTC, 06:30 in Hà Nội)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from archive_core.clock import end_of_local_day, format_local, local_date, local_today, utcnow, zone_label

time_machine = pytest.importorskip("time_machine")


def test_at_half_past_eleven_utc_hanoi_is_already_tomorrow():
    with time_machine.travel(datetime.fromisoformat("2026-12-02T23:30:00+00:00"), tick=False):
        assert utcnow() == datetime(2026, 12, 2, 23, 30)
        assert local_today() == date(2026, 12, 3)
        assert format_local(utcnow()) == "03/12/2026 06:30"
        assert format_local(utcnow(), seconds=True, zone=True) == "03/12/2026 06:30:00 (giờ Việt Nam, GMT+7)"
        assert zone_label() == "giờ Việt Nam, GMT+7"


def test_an_expiry_day_ends_at_midnight_in_hanoi():
    end = end_of_local_day(date(2026, 12, 3))
    assert end == datetime(2026, 12, 3, 16, 59, 59)  # 23:59:59 in Hà Nội, stored UTC
    assert local_date(end) == date(2026, 12, 3)
    assert local_date(datetime(2026, 12, 3, 17, 0)) == date(2026, 12, 4)


def test_the_zone_is_configurable(monkeypatch):
    monkeypatch.setenv("ARCHIVE_TIMEZONE", "Asia/Tokyo")
    assert zone_label() == "GMT+9"
    assert format_local(datetime(2026, 12, 2, 23, 30)) == "03/12/2026 08:30"
