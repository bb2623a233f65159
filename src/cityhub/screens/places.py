"""Tiles of feature collections: parking (free spaces of chosen garages), the map, the ticker.

Features are read as the public reads them (a hidden collection is as missing), with the
live values of the Things they are linked to.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from cityhub.digits import is_digits
from cityhub.features import live, reads, sources
from cityhub.features.reads import Item
from cityhub.features.sources import Collection
from cityhub.screens import readings
from cityhub.screens.context import TileContext, instant, stale_after, tile_data
from cityhub.timeutil import parse_instant

#: The most features a map layer or a ticker reads.
MAP_LIMIT = 500
TICKER_LIMIT = 20
#: How far ahead the ticker announces events of a collection.
TICKER_AHEAD = timedelta(days=14)
#: How long an event without an end stays in the ticker after it began.
TODAYS_EVENTS = timedelta(hours=12)
_FREE_WORDS = ("frei", "free")
_NAME_PROPERTIES = ("name", "title", "titel", "bezeichnung")


def find(context: TileContext, slug: str) -> Collection | None:
    """The collection ``slug`` if the public may see it."""
    return sources.find_collection(context.connection, slug, context.hidden)


def _items(
    context: TileContext, collection: Collection, limit: int, *conditions: ColumnElement[bool]
) -> list[Item]:
    source = sources.source(collection, context.hidden)
    return reads.page(context.connection, source, [*source.base, *conditions], limit, 0).items


def key_of(collection: Collection, item: Item) -> str:
    """How a tile names a feature: its key (the collection's key property), else its id."""
    if collection.key_property and item.properties.get(collection.key_property) is not None:
        return str(item.properties[collection.key_property])
    return str(item.id)


def by_keys(context: TileContext, collection: Collection, keys: list[str]) -> dict[str, Item]:
    """The features of ``collection`` named by ``keys`` (keys, else ids), by how they were
    named. Keys and ids are asked apart, each through its index (one page, no count)."""
    source = sources.source(collection, context.hidden)
    found: dict[str, Item] = {}
    if not collection.is_sensors:
        for item in _items(context, collection, len(keys) + 1, source.c.key.in_(keys)):
            found[key_of(collection, item)] = item
    ids = [int(key) for key in keys if is_digits(key) and key not in found]
    if ids:
        for item in _items(context, collection, len(ids) + 1, source.c.id.in_(ids)):
            found[str(item.id)] = item
    return found


def feature_name(properties: dict[str, Any], fallback: str) -> str:
    for name in _NAME_PROPERTIES:
        for variant in (name, name.capitalize()):
            if isinstance(properties.get(variant), str) and properties[variant]:
                return properties[variant]
    return fallback


def _free(live_values: dict[str, dict[str, Any]], wanted: str | None) -> dict[str, Any] | None:
    if wanted:
        return live_values.get(wanted)
    for name, detail in live_values.items():
        if any(word in name.lower() for word in _FREE_WORDS):
            return detail
    return None


def parking(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    """Free spaces of each chosen garage, in the order chosen, from its live values."""
    collection = find(context, options["collection"])
    if collection is None:
        return tile_data(options, None, None, garages=[], available=False)
    found = by_keys(context, collection, options["features"])
    things = [item.thing_id for item in found.values() if item.thing_id]
    values = live.latest_values(context.connection, things, context.hidden)
    garages, times, streams = [], [], []
    for key in options["features"]:
        item = found.get(key)
        if item is None:
            continue
        free = _free(values.get(item.thing_id or -1, {}), options["property"])
        if free is None and isinstance(item.properties.get(options["property"] or "free"), int):
            free = {"value": item.properties[options["property"] or "free"], "phenomenonTime": None}
        capacity = item.properties.get(options["capacity_property"])
        if free is not None and free["phenomenonTime"]:
            times.append(parse_instant(free["phenomenonTime"]))
            streams.append(free["datastream"])
        garages.append(
            {
                "name": feature_name(item.properties, key),
                "free": None if free is None else free["value"],
                "capacity": capacity if isinstance(capacity, int | float) else None,
                "time": None if free is None else free["phenomenonTime"],
            }
        )
    as_of = min(times) if times else None
    shown = readings.latest(context.connection, streams, context.hidden)
    stale = stale_after(options, list(shown.values()))
    return tile_data(options, as_of, stale, garages=garages, _datastreams=streams)


def map_section(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    """The features of each chosen collection (geometry and name), drawn over the base map
    of ``tile_url`` if one is set (none by default: a screen may have no internet)."""
    layers = []
    for slug in options["collections"]:
        collection = find(context, slug)
        if collection is None:
            continue
        features = [
            {
                "type": "Feature",
                "geometry": item.geometry,
                "properties": {"name": feature_name(item.properties, key_of(collection, item))},
            }
            for item in _items(context, collection, MAP_LIMIT)
            if item.geometry is not None
        ]
        layers.append({"collection": slug, "title": collection.title, "features": features})
    return tile_data(
        options,
        None,
        None,
        layers=layers,
        tile_url=options["tile_url"],
        attribution=options["attribution"],
    )


def ticker(context: TileContext, options: dict[str, Any]) -> dict[str, Any]:
    """News and events: the texts given, then current and coming features of a collection
    (those with a time: ongoing or starting within two weeks), soonest first."""
    items = [{"text": text, "time": None} for text in options["items"] or []]
    if options["collection"]:
        collection = find(context, options["collection"])
        if collection is not None and not collection.is_sensors:
            items.extend(_events(context, collection, options["text_property"]))
    return tile_data(options, None, None, items=items)


def _events(context: TileContext, collection: Collection, text_property: str) -> list[dict]:
    source = sources.source(collection, context.hidden)
    now: datetime = context.now
    coming = (
        source.c.time_start.is_not(None),
        source.c.time_start <= now + TICKER_AHEAD,
        or_(
            source.c.time_end >= now,
            and_(source.c.time_end.is_(None), source.c.time_start >= now - TODAYS_EVENTS),
        ),
    )
    rows = sorted(
        _items(context, collection, TICKER_LIMIT * 5, *coming), key=lambda i: i.time_start
    )
    events = []
    for item in rows[:TICKER_LIMIT]:
        text = item.properties.get(text_property) or feature_name(item.properties, "")
        if text:
            events.append({"text": str(text), "time": instant(item.time_start)})
    return events
