"""When is a value stale: the one rule of the portal (map, pages) and the screens' tiles.

A Datastream says how often it should report in ``properties.expectedInterval`` (an ISO 8601
duration such as ``PT10M``; publishers set it through the SensorThings API). Without it, the
expected interval is the typical spacing of its Observations so far: the time from its first
to its latest phenomenonTime divided by the gaps between them — read from the statistics every
Datastream keeps, so the rule costs no query. A value is stale when it is older than the
expected interval plus half of it again (a grace for transmission delays); a Datastream with
fewer than two Observations and no declared interval is never called stale.

Screens apply the rule client-side (they go on showing their last state while offline), so a
tile gets it as a number of seconds: ``stale_after`` (see ``stale_after`` below).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cityhub.errors import BadRequest
from cityhub.timeutil import parse_duration

#: How much later than expected a value may arrive before it counts as stale.
GRACE = 1.5
#: The longest declared interval taken at its word; a longer one (a typo, or "never") is no
#: guide, and would overflow the arithmetic of times (``timedelta`` ends at 999999999 days).
LONGEST = timedelta(days=3653)


@dataclass(frozen=True)
class Freshness:
    interval: timedelta | None
    declared: bool  # from properties.expectedInterval, not estimated
    stale: bool


def expected_interval(
    properties: dict[str, Any] | None,
    first: datetime | None,
    latest: datetime | None,
    count: int,
) -> tuple[timedelta | None, bool]:
    """The declared interval, else the mean spacing so far (``None``: nothing to go by)."""
    declared = (properties or {}).get("expectedInterval")
    if isinstance(declared, str):
        try:
            value = parse_duration(declared)
        except BadRequest:
            value = None
        if value is not None and timedelta(0) < value <= LONGEST:
            return value, True
    if first is None or latest is None or count < 2 or latest <= first:
        return None, False
    return (latest - first) / (count - 1), False


def freshness(
    properties: dict[str, Any] | None,
    first: datetime | None,
    latest: datetime | None,
    count: int,
    now: datetime,
) -> Freshness:
    interval, declared = expected_interval(properties, first, latest, count)
    stale = interval is not None and latest is not None and now - latest > interval * GRACE
    return Freshness(interval, declared, stale)


def stale_after(values: Iterable[tuple[datetime, timedelta | None]]) -> timedelta | None:
    """How long after the oldest of some values (each its time and expected interval) the
    first of them turns stale — ``None`` if none ever does.

    A tile that shows several Datastreams gives the time of its oldest value and marks itself
    stale from this span on: exactly when the first of its values would be called stale on
    the portal. Neither the shortest interval (a slow rain gauge beside a fast thermometer
    would mark the tile stale while nothing is late) nor the longest (a silent thermometer
    would go unnoticed) says that.
    """
    timed = list(values)
    if not timed:
        return None
    oldest = min(time for time, _ in timed)
    # Spans from the oldest value, not instants: a time near the calendar's end plus an
    # interval would leave what a datetime can hold.
    spans = [time - oldest + interval * GRACE for time, interval in timed if interval is not None]
    return min(spans) if spans else None
