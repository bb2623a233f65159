"""The tile types: their options, how a layout is checked, and what each tile computes.

A layout is a list of tiles ``{"type": …, options…}``. ``check_layout`` checks every tile's
options (``options.check_options``) and then what they name against the store — a
Datastream, a feature collection, a GTFS stop the public may read — so a screen never shows
restricted data and a typo is a 400 at the admin form, not an empty tile in the lobby.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from cityhub.errors import BadRequest
from cityhub.gtfs.departures import find_stops
from cityhub.screens import places, qr, readings, sensors, transit
from cityhub.screens.context import TileContext
from cityhub.screens.options import Option, TileError, check_options
from cityhub.store.access import ANYONE, Hidden, hidden_datasets

MAX_TILES = 24
Compute = Callable[[TileContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class TileType:
    name: str
    description: str
    options: tuple[Option, ...]
    compute: Compute

    @property
    def datastream_options(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options if o.type == "datastream")

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.name,
            "description": self.description,
            "options": [option.describe() for option in self.options],
        }


def _common(ages: bool = False, stale_minutes: int | None = None) -> tuple[Option, ...]:
    """The title, and for tiles whose values age the ``stale_minutes`` override. Without it a
    tile of Datastream values turns stale by the portal's rule (``cityhub.freshness``);
    departures by their own default (``stale_minutes``) for realtime data."""
    title = Option("title", "text", "Heading of the tile; default: the tile type's name.")
    if not ages:
        return (title,)
    default = (
        f"default: {stale_minutes}."
        if stale_minutes is not None
        else "default: when a Datastream's value is later than its expected interval "
        "(properties.expectedInterval, else its Observations' spacing) and half of it again."
    )
    stale = Option(
        "stale_minutes",
        "integer",
        f"Minutes after which the tile marks its values as out of date; {default}",
        default=stale_minutes,
        minimum=1,
    )
    return (title, stale)


def _stream(name: str, what: str, required: bool = False) -> Option:
    return Option(name, "datastream", f"The Datastream of {what} (its @iot.id).", required)


TILE_TYPES: dict[str, TileType] = {
    tile.name: tile
    for tile in (
        TileType(
            "departures",
            "The next departures from a stop of a GTFS feed, with delays where known.",
            (
                Option(
                    "stop",
                    "text",
                    "The stop_id of the stop (a station includes its platforms).",
                    required=True,
                ),
                Option("feed", "text", "The GTFS feed's name, if the stop is in several."),
                Option(
                    "limit",
                    "integer",
                    "How many departures to show.",
                    default=6,
                    minimum=1,
                    maximum=20,
                ),
                *_common(ages=True, stale_minutes=5),
            ),
            transit.departures,
        ),
        TileType(
            "parking",
            "Free spaces of chosen car parks, from their live values.",
            (
                Option(
                    "collection", "text", "The feature collection of the car parks.", required=True
                ),
                Option(
                    "features",
                    "text-list",
                    "The car parks, by key (or feature id), in the order shown.",
                    required=True,
                ),
                Option(
                    "property",
                    "text",
                    "The live value of the free spaces; default: the "
                    "first whose name mentions 'frei' or 'free'.",
                ),
                Option(
                    "capacity_property",
                    "text",
                    "The feature property of the number of spaces.",
                    default="capacity",
                ),
                *_common(ages=True),
            ),
            places.parking,
        ),
        TileType(
            "weather",
            "Weather now (latest readings) and today (lowest and highest temperature, rain).",
            (
                _stream("temperature", "the air temperature", required=True),
                _stream("humidity", "the relative humidity"),
                _stream("wind", "the wind speed"),
                _stream("precipitation", "the precipitation amount per interval"),
                *_common(ages=True),
            ),
            sensors.weather,
        ),
        TileType(
            "uv",
            "The UV index with its WHO band and advice in plain language.",
            (_stream("datastream", "the UV index", required=True), *_common(ages=True)),
            sensors.uv,
        ),
        TileType(
            "water",
            "A water level with its trend (rising, steady, falling) and an optional warning.",
            (
                _stream("datastream", "the water level", required=True),
                Option(
                    "trend_minutes",
                    "integer",
                    "The trend compares with the level this many minutes earlier.",
                    default=60,
                    minimum=5,
                    maximum=1440,
                ),
                Option(
                    "steady_band",
                    "number",
                    "A change smaller than this (in the level's unit) counts as steady.",
                    default=2.0,
                    minimum=0,
                ),
                Option("warn_level", "number", "From this level on the tile shows a warning."),
                *_common(ages=True),
            ),
            sensors.water,
        ),
        TileType(
            "air",
            "Air quality as the German UBA index (worst of the pollutants given).",
            (
                _stream("pm10", "PM10 (µg/m³)"),
                _stream("pm2p5", "PM2.5 (µg/m³)"),
                _stream("no2", "NO2 (µg/m³)"),
                _stream("o3", "ozone (µg/m³)"),
                *_common(ages=True),
            ),
            sensors.air,
        ),
        TileType(
            "map",
            "A map section with the features of chosen collections.",
            (
                Option("collections", "text-list", "The feature collections drawn.", required=True),
                Option(
                    "tile_url",
                    "url",
                    "A base map's tile URL with {z}/{x}/{y}; default: "
                    "none (the screen may have no internet).",
                ),
                Option("attribution", "text", "The base map's attribution, shown on it."),
                *_common(),
            ),
            places.map_section,
        ),
        TileType(
            "ticker",
            "A news and events ticker: texts given here and coming events of a collection.",
            (
                Option("items", "text-list", "News texts shown in turn."),
                Option(
                    "collection", "text", "A feature collection of events (features with a time)."
                ),
                Option("text_property", "text", "The event property shown.", default="title"),
                *_common(),
            ),
            places.ticker,
        ),
        TileType(
            "qr",
            "A QR code linking to the matching portal page.",
            (
                Option(
                    "url",
                    "url",
                    "The page: a path of this hub (e.g. /) or an http(s) URL.",
                    required=True,
                ),
                Option("label", "text", "The text beside the code, e.g. 'More on your phone'."),
                *_common(),
            ),
            qr.qr,
        ),
    )
}


def tile_types() -> list[dict[str, Any]]:
    """Every tile type with its options, for ``GET /api/admin/screens/tile-types``."""
    return [tile.describe() for tile in TILE_TYPES.values()]


def check_tiles(tiles: Any) -> list[dict[str, Any]]:
    """The tiles with their options checked and defaults filled in (no store needed)."""
    if not isinstance(tiles, list):
        raise BadRequest('tiles must be a list of objects {"type": …, options…}')
    if len(tiles) > MAX_TILES:
        raise BadRequest(f"a screen has at most {MAX_TILES} tiles, not {len(tiles)}")
    checked = []
    for index, tile in enumerate(tiles):
        kind = tile.get("type") if isinstance(tile, dict) else None
        if kind not in TILE_TYPES:
            known = ", ".join(TILE_TYPES)
            raise TileError(index, str(kind), f"unknown tile type; the types are: {known}", "type")
        tile_type = TILE_TYPES[kind]
        options = check_options(index, kind, tile_type.options, tile)
        if kind == "air" and not any(options[name] for name in sensors.AIR_STREAMS):
            raise TileError(index, kind, "give at least one of pm10, pm2p5, no2, o3", "pm10")
        if kind == "ticker" and not (options["items"] or options["collection"]):
            raise TileError(index, kind, "give items, a collection, or both", "items")
        checked.append(options)
    return checked


def check_references(connection: Connection, tiles: list[dict[str, Any]]) -> None:
    """What the tiles name exists and the public may read it (else a 400 naming the tile)."""
    hidden = hidden_datasets(connection, ANYONE)
    for index, options in enumerate(tiles):
        kind = options["type"]
        for name in TILE_TYPES[kind].datastream_options:
            stream = options[name]
            if stream and not readings.visible_datastreams(connection, [stream], hidden):
                raise TileError(
                    index,
                    kind,
                    f"no public Datastream {stream} (screens show public data only)",
                    name,
                )
        _check_places(connection, hidden, index, options)


def _check_places(connection: Connection, hidden: Hidden, index: int, options: dict) -> None:
    kind = options["type"]
    context = TileContext(connection, hidden, datetime.now(UTC), ZoneInfo("UTC"), "")
    slugs = {
        "parking": [options.get("collection")],
        "map": options.get("collections"),
        "ticker": [options.get("collection")],
    }.get(kind) or []
    for slug in slugs:
        if slug and places.find(context, slug) is None:
            option = "collections" if kind == "map" else "collection"
            raise TileError(index, kind, f"no public feature collection '{slug}'", option)
    if kind == "parking":
        collection = places.find(context, options["collection"])
        assert collection is not None
        found = places.by_keys(context, collection, options["features"])
        missing = [key for key in options["features"] if key not in found]
        if missing:
            raise TileError(
                index,
                kind,
                f"no feature {', '.join(missing)} in '{options['collection']}'",
                "features",
            )
    if kind == "departures":
        stops = find_stops(connection, options["stop"], ANYONE, options["feed"])
        if not stops:
            raise TileError(
                index, kind, f"no stop '{options['stop']}' in a public GTFS feed", "stop"
            )
        if len(stops) > 1:
            raise TileError(index, kind, "the stop is in several feeds: give the feed", "feed")


def datastreams_of(tiles: list[dict[str, Any]]) -> set[int]:
    """Every Datastream the tiles show: what the live poller watches."""
    return {
        options[name]
        for options in tiles
        for name in TILE_TYPES[options["type"]].datastream_options
        if options.get(name)
    }
