"""The demo's screen: ``/screens/rathaus``, a town hall lobby with every tile type, built from
whatever the demo loaded (its Datastreams by demo key, its collections, its GTFS stop)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from cityhub.screens import layouts
from cityhub.screens.tiles import check_references
from cityhub.store import schema

if TYPE_CHECKING:
    from cityhub.demo import DemoIdentifiers

DEMO_SLUG = "rathaus"
_STREAMS = {
    "temperature": "weather-rathaus:air-temperature",
    "humidity": "weather-rathaus:relative-humidity",
    "wind": "weather-rathaus:wind-speed",
    "precipitation": "weather-rathaus:precipitation",
    "uv": "lamp-clemens-galerien:uv-index",
    "water": "gauge-wupper-glueder:water-level",
    "pm10": "air-schlagbaum:pm10",
    "pm2p5": "air-schlagbaum:pm2p5",
    "no2": "air-schlagbaum:no2",
}
NEWS = [
    "Bürgerbüro: Termine auch online unter solingen.de",
    "Wochenmarkt samstags 8–13 Uhr auf dem Neumarkt",
]


def _streams(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(schema.datastreams.c.id, schema.datastreams.c.properties))
    by_key = {
        props["demoKey"]: ds_id
        for ds_id, props in rows
        if isinstance(props, dict) and "demoKey" in props
    }
    return {name: by_key[key] for name, key in _STREAMS.items() if key in by_key}


def demo_tiles(connection: Connection, demo: DemoIdentifiers) -> list[dict[str, Any]]:
    """Every tile type, filled with the demo's data."""
    streams = _streams(connection)
    tiles: list[dict[str, Any]] = [
        {"type": "departures", "stop": demo.stop, "feed": demo.feed, "limit": 6},
        {
            "type": "parking",
            "collection": demo.parking_collection,
            "features": list(demo.parking_keys),
            "property": demo.parking_free,
        },
    ]
    if "temperature" in streams:
        weather = {k: streams[k] for k in ("temperature", "humidity", "wind", "precipitation")}
        tiles.append({"type": "weather", **{k: v for k, v in weather.items() if v}})
    if "uv" in streams:
        tiles.append({"type": "uv", "datastream": streams["uv"]})
    if "water" in streams:
        tiles.append({"type": "water", "datastream": streams["water"], "title": "Wupper (Glüder)"})
    air = {k: streams[k] for k in ("pm10", "pm2p5", "no2") if k in streams}
    if air:
        tiles.append({"type": "air", **air, "title": "Luft am Schlagbaum"})
    tiles.append(
        {
            "type": "map",
            "title": "Innenstadt",
            "collections": ["stadtbezirke", demo.parking_collection, demo.stops_collection],
        }
    )
    tiles.append({"type": "qr", "url": "/", "label": "Alle Daten der Stadt auf dem Handy"})
    tiles.append({"type": "ticker", "items": NEWS})
    return tiles


def ensure_demo_screen(connection: Connection, demo: DemoIdentifiers) -> None:
    """Create the demo screen unless a screen of that slug exists (an admin's edits stay)."""
    if layouts.one(connection, DEMO_SLUG, 0) is not None:
        return
    screen = layouts.check_body(
        {
            "title": "Rathaus Solingen – Foyer",
            "group": "innenstadt",
            "orientation": "landscape",
            "tiles": demo_tiles(connection, demo),
        }
    )
    check_references(connection, screen["tiles"])
    layouts.save(connection, DEMO_SLUG, screen)
