"""What a screen shows, computed in one read transaction: layout, tile data, crisis messages.

The state is what ``GET /api/screens/{slug}`` answers and what the live channel pushes; the
page keeps the last one it got, so it can go on showing it while the hub is away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from cityhub import __version__
from cityhub.screens import crisis, layouts, readings
from cityhub.screens.context import TileContext
from cityhub.screens.tiles import TILE_TYPES, datastreams_of
from cityhub.store.access import ANYONE, hidden_datasets
from cityhub.timeutil import format_instant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreenState:
    """A screen's state, and the Datastreams it depends on (for the live poller)."""

    body: dict[str, Any]
    datastreams: frozenset[int]


def compute(
    connection: Connection,
    slug: str,
    base_url: str,
    zone: ZoneInfo,
    heartbeat_seconds: int,
    now: datetime | None = None,
) -> ScreenState | None:
    """The screen ``slug``'s state now, or None if there is no such screen."""
    screen = layouts.one(connection, slug, 3 * heartbeat_seconds)
    if screen is None:
        return None
    now = now or datetime.now(UTC)
    tiles = compute_tiles(connection, screen["tiles"], base_url, zone, now)
    watched = datastreams_of(screen["tiles"])
    for tile in tiles:
        watched.update(tile.pop("_datastreams", ()))
    body = {
        "screen": {
            "slug": slug,
            "title": screen["title"],
            "group": screen["group"],
            "orientation": screen["orientation"],
            "modified": screen["modified"],
        },
        "tiles": tiles,
        "crisis": crisis.active_for(connection, screen["group"], now),
        "server_time": format_instant(now),
        "timezone": str(zone),
        "heartbeat_seconds": heartbeat_seconds,
        "version": __version__,
    }
    return ScreenState(body, frozenset(watched))


def compute_tiles(
    connection: Connection,
    layout: list[dict[str, Any]],
    base_url: str,
    zone: ZoneInfo,
    now: datetime,
) -> list[dict[str, Any]]:
    """The data of the tiles ``layout`` lists, as the public sees it, with one read of the
    latest values of their Datastreams (a tile's ``_datastreams``: others it found itself)."""
    hidden = hidden_datasets(connection, ANYONE)
    context = TileContext(connection, hidden, now, zone, base_url)
    context.readings = readings.latest(connection, sorted(datastreams_of(layout)), hidden)
    return [_tile(context, index, options) for index, options in enumerate(layout)]


def _tile(context: TileContext, index: int, options: dict[str, Any]) -> dict[str, Any]:
    """One tile's data; a tile that fails shows as unavailable, the others still show."""
    try:
        return TILE_TYPES[options["type"]].compute(context, options)
    except Exception:  # one broken tile must not blank the screen in the lobby
        log.exception("tile %d (%s) of a screen failed", index, options["type"])
        return {
            "type": options["type"],
            "title": options.get("title"),
            "as_of": None,
            "stale_after": None,
            "available": False,
        }


def without_time(body: dict[str, Any]) -> dict[str, Any]:
    """The state less what changes every time (the server's clock): to tell real changes."""
    return {key: value for key, value in body.items() if key != "server_time"}
