"""Service days: GTFS times count from "noon minus 12 h" of a day in the agency's time zone.

That reference is midnight except on the days clocks change, when it keeps the times of
the day's trips apart from the change. A time past 24:00:00 belongs to the service day
before the calendar day it falls on, so departures at an instant come from yesterday's,
today's and tomorrow's service days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_HALF_DAY = 43_200


def service_day_start(day: date, zone: ZoneInfo) -> int:
    """Seconds since the epoch of noon minus 12 h on ``day`` in ``zone``."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    return int(noon.timestamp()) - _HALF_DAY


def day_number(day: date) -> int:
    """``day`` as GTFS writes it, a number YYYYMMDD."""
    return day.year * 10_000 + day.month * 100 + day.day


def from_day_number(number: int) -> date:
    return date(number // 10_000, number // 100 % 100, number % 100)


def service_days_around(instant: datetime, zone: ZoneInfo) -> list[date]:
    """The service days whose trips may run at ``instant`` or in the day after it."""
    local = instant.astimezone(zone).date()
    return [local - timedelta(days=1), local, local + timedelta(days=1)]


def local_time(epoch: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, zone)
