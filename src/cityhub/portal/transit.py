"""The next departures of a stop feature (one the GTFS connector wrote: its key ``id`` is the
stop_id, ``feed`` its feed), read through the departures API's own code and access rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cityhub.gtfs.departures import find_stops, next_departures
from cityhub.store.access import Reader

#: Departures shown in a stop's popup and on its page.
SHOWN = 5


def departures_of(
    connection: Connection,
    properties: dict[str, Any],
    reader: Reader,
    now: datetime,
    limit: int = SHOWN,
) -> list[dict[str, Any]] | None:
    """The next ``limit`` departures, or None when the feature is no stop of a visible feed."""
    stop, feed = properties.get("id"), properties.get("feed")
    if not isinstance(stop, str) or not isinstance(feed, str):
        return None
    scopes = find_stops(connection, stop, reader, feed)
    if len(scopes) != 1:
        return None
    found = next_departures(connection, scopes[0], now, limit)
    for departure in found:
        departure["time"] = datetime.fromisoformat(departure["estimated"] or departure["scheduled"])
    return found
