"""What every tile computation gets: one read transaction, the public's view, the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

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


def tile_data(
    options: dict[str, Any], as_of: datetime | None, stale_minutes: int | None, **data: Any
) -> dict[str, Any]:
    """A tile's data as the screen gets it: the type, the title (if set), when its values are
    from (``as_of``), after how many seconds they count as stale, and the values."""
    return {
        "type": options["type"],
        "title": options.get("title"),
        "as_of": instant(as_of),
        "stale_after": None if stale_minutes is None else stale_minutes * 60,
        **data,
    }
