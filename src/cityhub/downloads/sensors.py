"""The sensors collection as a download: one row per Thing with a Location, by id, with the
latest value of each of its Datastreams.

Columns: ``id`` (the Thing's), ``name``, ``description``, every key of the Things'
``properties`` (sorted), then per observed property with a current value among them its
value (``<name>``) and time (``<name>.phenomenonTime``, ISO 8601), then the geometry as in a
collection's download (``collections`` writes both). The GeoJSON Features carry the
properties as OGC API – Features serves them, the live values under ``live`` included.

Things are read ``BATCH_ROWS`` at a time by id (keyset, no cursor held open beside the
latest values' query), each batch's latest values in one query.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, select

from cityhub.conditional import latest
from cityhub.downloads import collections, encoders
from cityhub.downloads.collections import Row
from cityhub.downloads.streaming import Head
from cityhub.downloads.urls import FORMATS
from cityhub.downloads.validators import etag
from cityhub.features import live, sources
from cityhub.features.sources import Source
from cityhub.features.summary import property_types
from cityhub.store import schema
from cityhub.store.access import RESTRICTED, Hidden

BATCH_ROWS = 5_000
#: The Thing's own columns; a key of its ``properties`` named like one is ``properties.<key>``.
_THING = {"name": "string", "description": "string"}
_TIME = ".phenomenonTime"
_datastreams = schema.datastreams


def produce(connection: Connection, extension: str, hidden: Hidden) -> Iterator[Any]:
    """The download's ``Head``, then its bytes."""
    source = sources.sensor_source(hidden)
    tag, last_modified = _validators(connection, source, hidden, extension)
    filename = f"{sources.SENSORS}.{extension}"
    public = not _reads_restricted(connection, hidden)
    yield Head(FORMATS[extension].media_type, filename, tag, last_modified, public)
    if extension == "geojson":
        yield from encoders.geojson_chunks(_features(connection, source, hidden))
        return
    types = _columns(connection, source, hidden)
    if extension == "csv":
        yield from collections.csv_chunks(_rows(connection, source, hidden), list(types))
    else:
        yield from collections.parquet_chunks(_rows(connection, source, hidden), types)


def _validators(
    connection: Connection, source: Source, hidden: Hidden, extension: str
) -> tuple[str, datetime | None]:
    """A weak tag from aggregates the store keeps: the visible Things (how many, their ids)
    and their Datastreams' statistics (latest Observation, count). An edit of a Thing's name,
    properties or Location that adds or removes none keeps it."""
    things = connection.execute(
        select(func.count(), func.max(source.c.id), func.sum(source.c.id))
    ).one()
    statistics = connection.execute(
        select(
            func.count(),
            func.max(_datastreams.c.latest_observation_id),
            func.max(_datastreams.c.latest_phenomenon_time),
            func.sum(_datastreams.c.observation_count),
        ).where(_datastreams.c.thing_id.in_(select(source.c.id)))
    ).one()
    tag = etag(sources.SENSORS, extension, sorted(hidden.datasets), *things, *statistics, weak=True)
    return tag, latest(statistics[2])


def _reads_restricted(connection: Connection, hidden: Hidden) -> bool:
    """Whether the reader may read a restricted dataset: then the answer is its own."""
    table = schema.datasets
    condition = [table.c.visibility == RESTRICTED]
    if hidden:
        condition.append(table.c.id.not_in(sorted(hidden.datasets)))
    return bool(connection.scalar(select(exists().where(*condition))))


def _columns(connection: Connection, source: Source, hidden: Hidden) -> dict[str, str]:
    """The columns between ``id`` and the geometry, by name, with their JSON Schema types."""
    values = live.live_types(connection, select(source.c.id), hidden)
    types = dict(_THING)
    for key, kind in property_types(connection, source, connection.dialect.name).items():
        if key not in values:
            types[_property_column(key)] = kind
    for name, kind in values.items():
        types[name] = kind
        types[name + _TIME] = "string"
    return types


def _property_column(key: str) -> str:
    return f"properties.{key}" if key in _THING else key


def _things(connection: Connection, source: Source, hidden: Hidden) -> Iterator[list[Any]]:
    """Batches of Things (id, name, description, properties, geometry as GeoJSON text) by id,
    and per Thing its latest values."""
    statement = select(
        source.c.id, source.c.name, source.c.description, source.c.properties, source.c.geom
    ).order_by(source.c.id)
    after = None
    while True:
        page = statement if after is None else statement.where(source.c.id > after)
        rows = connection.execute(page.limit(BATCH_ROWS)).all()
        if not rows:
            return
        values = live.latest_values(connection, [row.id for row in rows], hidden)
        yield [(row, values.get(row.id) or {}) for row in rows]
        after = rows[-1].id


def _rows(connection: Connection, source: Source, hidden: Hidden) -> Iterator[list[Row]]:
    for batch in _things(connection, source, hidden):
        rows = []
        for thing, current in batch:
            cells = {"name": thing.name, "description": thing.description}
            for key, value in (thing.properties or {}).items():
                cells[_property_column(key)] = value
            for name, detail in current.items():
                cells[name] = detail["value"]
                cells[name + _TIME] = detail["phenomenonTime"]
            rows.append((thing.id, cells, thing.geom))
        yield rows


def _features(connection: Connection, source: Source, hidden: Hidden) -> Iterator[list[bytes]]:
    """Features as OGC API – Features serves them: a stored property wins over the Thing's
    name or description, a live value over a stored property."""
    for batch in _things(connection, source, hidden):
        features = []
        for thing, current in batch:
            stored = {"name": thing.name, "description": thing.description}
            properties = live.merge({**stored, **(thing.properties or {})}, current)
            features.append(encoders.feature(thing.id, thing.geom, properties))
        yield features
