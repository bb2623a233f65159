"""Time buckets for aggregation: a range cut into consecutive intervals of one duration.

Two kinds of duration, never mixed, because they answer different questions:

- clock durations (``PT15M``, ``PT1H``, ``PT24H``) are fixed spans of elapsed time;
- calendar durations (``P1D``, ``P1W``, ``P1M``, ``P1Y``) step the wall clock of a time zone,
  so a Berlin day is 23 or 25 hours long when the clocks change, and a month is 28 to 31 days.

Buckets start at the range's start and follow one another; the last one ends at the range's
end even when that cuts it short. Bucket ``k`` is computed directly from the start (never by
adding ``k`` steps one by one), so a page deep in a long range costs no more than the first.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cityhub.errors import BadRequest

_DURATION = re.compile(
    r"P(?:(?P<years>[0-9]+)Y)?(?:(?P<months>[0-9]+)M)?(?:(?P<weeks>[0-9]+)W)?"
    r"(?:(?P<days>[0-9]+)D)?(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?"
    r"(?:(?P<seconds>[0-9]+(?:[.,][0-9]+)?)S)?)?"
)
#: Shortest clock bucket: below it the bucket list of any useful range would be enormous.
MIN_CLOCK_STEP = timedelta(seconds=1)
_NOMINAL_MONTH = timedelta(days=365.2425 / 12)


@dataclass(frozen=True)
class Interval:
    """A bucket duration: calendar months and days, or a fixed clock step (one of them)."""

    text: str
    months: int = 0
    days: int = 0
    step: timedelta = timedelta(0)

    @property
    def is_calendar(self) -> bool:
        return self.months > 0 or self.days > 0

    @property
    def nominal(self) -> timedelta:
        """Roughly how long one bucket is, to estimate how many fit in a range."""
        return self.step + timedelta(days=self.days) + self.months * _NOMINAL_MONTH


def parse_interval(text: str) -> Interval:
    """Parse an ISO 8601 duration naming a bucket length (400 with the reason otherwise)."""
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if match is None or value == "P" or value.endswith("T"):
        raise BadRequest(
            f"interval: invalid duration {text!r}; expected ISO 8601 like PT15M, PT1H, P1D, P1M"
        )
    found = match.groupdict()
    parts = {name: int(number) for name, number in found.items() if number and name != "seconds"}
    seconds = float(match["seconds"].replace(",", ".")) if match["seconds"] else 0.0
    months = 12 * parts.get("years", 0) + parts.get("months", 0)
    days = 7 * parts.get("weeks", 0) + parts.get("days", 0)
    try:
        step = timedelta(
            hours=parts.get("hours", 0), minutes=parts.get("minutes", 0), seconds=seconds
        )
        Interval(value, months, days, step).nominal  # noqa: B018 - does it fit at all?
    except OverflowError:
        raise BadRequest(f"interval: {text!r} is longer than any range can be") from None
    if (months or days) and step:
        raise BadRequest(
            f"interval: {text!r} mixes calendar units (Y, M, W, D) with clock units (H, M, S); "
            "use one kind, e.g. P1D for calendar days or PT36H for 36 hours"
        )
    if not (months or days) and step < MIN_CLOCK_STEP:
        raise BadRequest(f"interval: {text!r} is shorter than one second")
    return Interval(value, months, days, step)


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as ``Europe/Berlin`` (400 for an unknown name)."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(
            f"timeZone: unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC"
        ) from None


@dataclass(frozen=True)
class Grid:
    """The buckets of ``interval`` from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: datetime
    end: datetime
    interval: Interval
    zone: ZoneInfo

    def boundary(self, index: int) -> datetime:
        """Where bucket ``index`` starts (for ``index`` past the last: past the end)."""
        interval = self.interval
        if not interval.is_calendar:
            return self.start + index * interval.step
        wall = self.start.astimezone(self.zone).replace(tzinfo=None)
        wall = _add_months(wall, index * interval.months) + timedelta(days=index * interval.days)
        return wall.replace(tzinfo=self.zone).astimezone(UTC)

    def count(self) -> int:
        """How many buckets the range holds, the last one possibly cut short."""
        estimate = max(0, math.floor((self.end - self.start) / self.interval.nominal) - 1)
        while self.boundary(estimate) < self.end:
            estimate += 1
        while estimate > 1 and self.boundary(estimate - 1) >= self.end:
            estimate -= 1
        return estimate

    def edges(self, first: int, last: int) -> list[datetime]:
        """Where buckets ``first`` to ``last`` (exclusive) start, then where the last one ends
        (cut at the range's end): bucket ``first + i`` is ``edges[i]`` to ``edges[i + 1]``."""
        edges = [self.boundary(index) for index in range(first, last + 1)]
        edges[-1] = min(edges[-1], self.end)
        return edges


def _add_months(wall: datetime, months: int) -> datetime:
    """The same day of month ``months`` later, or the month's last day if it is shorter."""
    if not months:
        return wall
    year, month = divmod(wall.month - 1 + months, 12)
    year += wall.year
    day = min(wall.day, calendar.monthrange(year, month + 1)[1])
    return wall.replace(year=year, month=month + 1, day=day)
