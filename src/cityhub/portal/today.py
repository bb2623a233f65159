"""Today's figures of the city on the portal: weather now and today, the UV index with its
band and today's highest, water levels with their trend, air quality.

They are the reading tiles of one information screen (setting ``portal_screen``), computed by
the screens' own code, these tiles only (not the screen's departures, map or QR code): the
data team lays them out once, in the screen editor, and the lobby screen and the portal say
the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from cityhub.screens import layouts, state
from cityhub.timeutil import parse_instant

#: The tile types the portal shows; places and departures are the "near me" lists' part.
SHOWN = ("weather", "uv", "water", "air")


def todays_figures(
    connection: Connection, screen: str, base_url: str, zone: ZoneInfo, now: datetime
) -> list[dict]:
    """The shown tiles of ``screen`` with their data, the time of their oldest value
    (``time``) and whether that is stale (``stale``); [] without such a screen."""
    found = layouts.one(connection, screen, silent_after=180) if screen else None
    if found is None:
        return []
    layout = [options for options in found["tiles"] if options["type"] in SHOWN]
    shown = []
    for tile in state.compute_tiles(connection, layout, base_url, zone, now):
        if not tile.get("available", True):
            continue
        tile.pop("_datastreams", None)
        as_of = parse_instant(tile["as_of"]) if tile["as_of"] else None
        limit = tile["stale_after"]
        tile["time"] = as_of
        tile["stale"] = (
            as_of is not None and limit is not None and now - as_of > timedelta(seconds=limit)
        )
        shown.append(tile)
    return shown
