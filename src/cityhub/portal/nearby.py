""" "Near me": the nearest places of every public collection from a point, with what is live
at them — free spaces of a car park, the next departures at a stop, a sensor's current
values — and today's figures of the city (``cityhub.portal.today``).

The point comes from the page's ``at=LAT,LON`` (the browser's location, or the map's centre);
without one the page starts from the map's configured centre and offers the location.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cityhub.errors import BadRequest
from cityhub.features import geo, reads, sources
from cityhub.features.reads import Item
from cityhub.features.sources import Collection
from cityhub.portal import reads as portal_reads
from cityhub.portal.transit import departures_of
from cityhub.screens.places import feature_name
from cityhub.store.access import Hidden, Reader

#: Places listed per collection, nearest first.
PER_COLLECTION = 3
#: Departures listed per stop.
DEPARTURES = 3
#: Places farther than this (metres) are not "near"; a collection with none is left out.
FARTHEST = 20_000.0


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float

    @classmethod
    def parse(cls, text: str) -> Point:
        """``LAT,LON`` in WGS 84 degrees, as a browser's location or a map centre gives it."""
        parts = text.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            lat, lon = float(parts[0]), float(parts[1])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
        except ValueError:
            raise BadRequest(
                f"at must be LATITUDE,LONGITUDE in degrees, e.g. 51.1712,7.0845, not '{text[:60]}'"
            ) from None
        return cls(round(lat, 6), round(lon, 6))

    @property
    def query(self) -> str:
        return f"{self.lat},{self.lon}"


@dataclass
class Place:
    """One place near the point: the feature, its distance, its live values, departures."""

    item: Item
    name: str
    href: str
    metres: float
    values: list[dict[str, Any]] = field(default_factory=list)
    departures: list[dict[str, Any]] | None = None


@dataclass
class Group:
    collection: Collection
    places: list[Place]


def nearest_places(
    connection: Connection,
    collections: list[Collection],
    point: Point,
    hidden: Hidden,
    reader: Reader,
    now: datetime,
) -> list[Group]:
    """The nearest places of each collection, each with its live values and departures;
    collections without a place within ``FARTHEST`` are left out."""
    backend = connection.dialect.name
    groups: list[Group] = []
    for collection in collections:
        source = sources.source(collection, hidden)
        distance = geo.Distance(source, point.lon, point.lat, backend)
        items = reads.nearest(
            connection, source, list(source.base), distance, PER_COLLECTION, FARTHEST
        )
        if items:
            groups.append(Group(collection, [_place(collection, item) for item in items]))
    _add_live(connection, groups, hidden, reader, now)
    return groups


def _place(collection: Collection, item: Item) -> Place:
    if collection.is_sensors:
        name, href = str(item.properties.get("name") or f"#{item.id}"), f"/things/{item.id}"
    else:
        fallback = item.properties.get(collection.key_property or "") or f"#{item.id}"
        name = feature_name(item.properties, str(fallback))
        href = f"/collections/{collection.slug}/{item.id}"
    return Place(item, name, href, item.distance or 0.0)


def _add_live(
    connection: Connection, groups: list[Group], hidden: Hidden, reader: Reader, now: datetime
) -> None:
    """Current values of every listed place's Thing in one read; departures of stops."""
    listed = [(p, _thing_of(group.collection, p.item)) for group in groups for p in group.places]
    things = sorted({thing for _, thing in listed if thing is not None})
    by_thing: dict[int | None, list[dict[str, Any]]] = {}
    for value in portal_reads.current_values(connection, things, hidden, now):
        by_thing.setdefault(value["thing_id"], []).append(value)
    for place, thing in listed:
        place.values = by_thing.get(thing, [])
        place.departures = departures_of(connection, place.item.properties, reader, now, DEPARTURES)


def _thing_of(collection: Collection, item: Item) -> int | None:
    return item.id if collection.is_sensors else item.thing_id
