"""What every tile computation gets: one read transaction, the public's view, the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from cityhub import freshness
from cityhub.screens.readings import Reading
from cityhub.store.access import Hidden
from cityhub.timeutil import format_instant


@dataclass
class TileContext:
    """One state computation of one screen."""

    connection: Connection
    hidden: Hidden
    now: datetime
    zone: ZoneInfo
    base_url: str
    readings: dict[int, Reading] = field(default_factory=dict)

    def today_start(self) -> datetime:
        """Local midnight of today, for "today" figures."""
        local = self.now.astimezone(self.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)


def instant(value: datetime | None) -> str | None:
    return None if value is None else format_instant(value)


def stale_after(options: dict[str, Any], shown: list[Reading]) -> timedelta | None:
    """When a tile of Datastream values turns stale after its oldest value: the tile's own
    ``stale_minutes`` if set, else the rule the portal applies (``cityhub.freshness``) — as
    soon as the first of its values is late."""
    if options.get("stale_minutes"):
        return timedelta(minutes=options["stale_minutes"])
    return freshness.stale_after((reading.time, reading.interval) for reading in shown)


def tile_data(
    options: dict[str, Any], as_of: datetime | None, stale: timedelta | None, **data: Any
) -> dict[str, Any]:
    """A tile's data as the screen gets it: the type, the title (if set), when its values are
    from (``as_of``, the oldest), after how many seconds from then they count as stale
    (``stale_after``; the page decides, also while offline), and the values."""
    return {
        "type": options["type"],
        "title": options.get("title"),
        "as_of": instant(as_of),
        "stale_after": None if stale is None else int(stale.total_seconds()),
        **data,
    }
