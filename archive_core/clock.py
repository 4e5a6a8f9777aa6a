"""Time: stored in UTC (naive ``datetime`` in the database), shown in Hà Nội time.

Every timestamp the archive writes comes from ``utcnow``; every time a person reads goes
through ``to_local`` (zone ``ARCHIVE_TIMEZONE``, default ``Asia/Ho_Chi_Minh``).
"""
from __future__ import annotations

import os
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo (how the database stores times)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_zone() -> ZoneInfo:
    """The zone times are shown in (``ARCHIVE_TIMEZONE``)."""
    return ZoneInfo(os.environ.get("ARCHIVE_TIMEZONE") or DEFAULT_ZONE)


def to_local(value: datetime) -> datetime:
    """A stored UTC time (naive or aware) as an aware time in the local zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(local_zone())


def local_today() -> date:
    """Today's date in the local zone (expiry dates typed by people are local dates)."""
    return datetime.now(local_zone()).date()
