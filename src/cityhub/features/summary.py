"""What a collection holds, for its metadata and queryables: the names and JSON types of its
properties, its live values, and its spatial and temporal extent.

Computing it reads the whole collection, so it is kept (``Summaries``) until the collection
is written again (the write path stamps ``collections.modified_at``), for a few minutes at
most (the sensors, and live values, change without that stamp: for seconds); a name that is
not (yet) known makes the face compute it again before calling the name unknown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Text, and_, case, func, select, true

from cityhub.features import live
from cityhub.features.geo import RTREE as _RTREE
from cityhub.features.sources import Collection, Source
from cityhub.store.access import Hidden

#: Seconds a summary is reused: of a stored collection not written since, of the sensors.
STORED_SECONDS, SENSORS_SECONDS = 300.0, 30.0

_SQLITE_TYPES = {
    "integer": "integer",
    "real": "number",
    "text": "string",
    "true": "boolean",
    "false": "boolean",
    "object": "object",
    "array": "array",
}
_POSTGRES_TYPES = {"integer": "integer", "number": "number", "string": "string"}
_POSTGRES_TYPES |= {"boolean": "boolean"}
_POSTGRES_TYPES |= {"object": "object", "array": "array"}


@dataclass(frozen=True)
class Summary:
    properties: dict[str, str]  # name: JSON Schema type
    live: dict[str, str] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.properties) | frozenset(self.live)


class Summaries:
    """Summaries by collection and reader, reused while the collection is unchanged."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, frozenset[int]], tuple[float, datetime | None, Summary]] = {}

    def get(
        self,
        connection: Connection,
        collection: Collection,
        source: Source,
        hidden: Hidden,
        *,
        fresh: bool = False,
    ) -> Summary:
        key = (collection.slug, hidden.datasets)
        kept = self._kept.get(key)
        now = time.monotonic()
        version = collection.modified_at
        lifetime = SENSORS_SECONDS if collection.is_sensors else STORED_SECONDS
        if kept is not None and not fresh and kept[1] == version and now - kept[0] < lifetime:
            return kept[2]
        summary = summarise(connection, source, hidden)
        if len(self._kept) > 1000:
            self._kept.clear()
        self._kept[key] = (now, version, summary)
        return summary


def summarise(connection: Connection, source: Source, hidden: Hidden) -> Summary:
    backend = connection.dialect.name
    properties = property_types(connection, source, backend)
    for name in source.extra:
        properties.setdefault(name, "string")
    things = select(source.c.thing_id).where(*source.base, source.c.thing_id.is_not(None))
    times = connection.execute(
        select(
            func.min(source.c.time_start),
            func.max(func.coalesce(source.c.time_end, source.c.time_start)),
        ).where(*source.base)
    ).one()
    return Summary(
        properties,
        live.live_names(connection, things, hidden),
        _extent(connection, source, backend),
        times[0],
        times[1],
    )


def _extent(
    connection: Connection, source: Source, backend: str
) -> tuple[float, float, float, float] | None:
    """The bounding box of the collection's geometries (from the R*Tree on SQLite)."""
    if backend == "postgresql":
        box = func.ST_Extent(source.c.geom)
        bounds = [func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)]
        statement = select(*bounds).where(*source.base)
    elif source.indexed:
        index = _RTREE
        ids = select(source.c.id).where(*source.base)
        statement = select(
            func.min(index.c.minx),
            func.min(index.c.miny),
            func.max(index.c.maxx),
            func.max(index.c.maxy),
        ).where(index.c.id.in_(ids))
    else:
        geom = source.c.geom
        statement = select(
            func.min(func.ST_XMin(geom)),
            func.min(func.ST_YMin(geom)),
            func.max(func.ST_XMax(geom)),
            func.max(func.ST_YMax(geom)),
        ).where(*source.base)
    row = connection.execute(statement).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def property_types(connection: Connection, source: Source, backend: str) -> dict[str, str]:
    """The names of the properties the source's features have, sorted, with their JSON types."""
    if backend == "postgresql":
        members = func.jsonb_each(source.c.properties).table_valued("key", "value").lateral()
        whole = members.c.value.cast(Text).regexp_match("^-?[0-9]+$")
        kind = case(
            (and_(func.jsonb_typeof(members.c.value) == "number", whole), "integer"),
            else_=func.jsonb_typeof(members.c.value),
        )
        names = _POSTGRES_TYPES
    else:
        members = func.json_each(source.c.properties).table_valued("key", "type")
        kind = members.c.type
        names = _SQLITE_TYPES
    statement = (
        select(members.c.key, kind)
        .select_from(source.table.join(members, true()))
        .where(*source.base)
        .distinct()
    )
    types: dict[str, str] = {}
    for key, json_type in connection.execute(statement):
        found = names.get(json_type)
        if found is None:
            continue
        types[key] = live.widen(types.get(key), found)
    return dict(sorted(types.items()))
