"""When is a value stale: the one rule the portal shows, on the map and on every page.

A Datastream says how often it should report in ``properties.expectedInterval`` (an ISO 8601
duration such as ``PT10M``; publishers set it through the SensorThings API). Without it, the
expected interval is the typical spacing of its Observations so far: the time from its first
to its latest phenomenonTime divided by the gaps between them — read from the statistics every
Datastream keeps, so the rule costs no query. A value is stale when it is older than the
expected interval plus half of it again (a grace for transmission delays); a Datastream with
fewer than two Observations and no declared interval is never called stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cityhub.errors import BadRequest
from cityhub.timeutil import parse_duration

#: How much later than expected a value may arrive before it counts as stale.
GRACE = 1.5


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
        if value is not None and value > timedelta(0):
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
