"""The departures tile: the next departures of a GTFS stop, as ``/departures`` gives them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cityhub.gtfs.departures import find_stops, next_departures
from cityhub.screens.context import TileContext, tile_data
from cityhub.store.access import ANYONE

#: Departures sent beyond those shown, so that a screen that lost the hub can drop the ones
#: that have left and still fill its board for a while.
SPARE = 10


def departures(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    scopes = find_stops(context.connection, options["stop"], ANYONE, options["feed"])
    if len(scopes) != 1:
        return tile_data(options, None, None, stop=None, departures=[], available=False)
    scope = scopes[0]
    rows = next_departures(context.connection, scope, context.now, options["limit"] + SPARE)
    board = [
        {
            "time": row["estimated"] or row["scheduled"],
            "scheduled": row["scheduled"],
            "delay": row["delay"],
            "cancelled": row["cancelled"] or row["skipped"],
            "route": row["route"],
            "route_color": row["route_color"],
            "headsign": row["headsign"],
            "platform": row["platform"],
        }
        for row in rows
    ]
    realtime = scope.realtime_timestamp
    return tile_data(
        options,
        realtime,
        timedelta(minutes=options["stale_minutes"]) if realtime else None,
        stop=scope.stop["name"],
        limit=options["limit"],
        realtime=realtime is not None,
        departures=board,
    )
