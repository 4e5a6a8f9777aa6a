"""Time: stored in UTC (naive ``datetime`` in the database), shown in Hà Nội time.

Every timestamp the archive writes comes from ``utcnow``; every time a person reads goes
through ``to_local`` (zone ``ARCHIVE_TIMEZONE``, default ``Asia/Ho_Chi_Minh``).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo (how the database stores times)."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_zone() -> ZoneInfo:
    """The zone times are shown in (``ARCHIVE_TIMEZONE``)."""
    return ZoneInfo(os.environ.get("ARCHIVE_TIMEZONE") or DEFAULT_ZONE)


def to_local(value: datetime) -> datetime:
    """A stored UTC time (naive or aware) as an aware time in the local zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local_zone())


def local_today() -> date:
    """Today's date in the local zone (expiry dates typed by people are local dates)."""
    return datetime.now(local_zone()).date()


def zone_label() -> str:
    """The zone named beside a time that is evidence: ``giờ Việt Nam, GMT+7`` (or ``GMT+h[:mm]``)."""
    zone = local_zone()
    offset = datetime.now(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    gmt = f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"giờ Việt Nam, {gmt}" if zone.key == DEFAULT_ZONE else gmt


def format_local(value: datetime | None, *, seconds: bool = False, zone: bool = False, empty: str = "") -> str:
    """A stored UTC time as people read it: ``dd/mm/yyyy HH:MM`` in the local zone, the zone named if asked."""
    if value is None:
        return empty
    shown = to_local(value).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    return f"{shown} ({zone_label()})" if zone else shown


def local_date(value: datetime | date | None) -> date | None:
    """The local calendar day of a stored UTC time (an expiry's day as the admin typed it)."""
    if value is None or not isinstance(value, datetime):
        return value
    return to_local(value).date()


def end_of_local_day(day: date) -> datetime:
    """The last second of ``day`` in the local zone, as stored (naive UTC)."""
    end = datetime.combine(day, time(23, 59, 59), tzinfo=local_zone())
    return end.astimezone(UTC).replace(tzinfo=None)
