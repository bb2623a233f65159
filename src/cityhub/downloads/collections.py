"""A feature collection as a download: one row per current feature, by id.

Columns: ``id``, then every property any feature has (sorted by name, as the collection's
queryables list them), then the geometry: WKT with ``lon``/``lat`` for points in CSV, WKB
with GeoParquet metadata in Parquet, GeoJSON in GeoJSON. A property named like one of those
columns is written as ``properties.<name>``. Stored properties only: a live feature's current
values are in its Datastreams' downloads; the sensors collection's download (``sensors``)
has them, written by the same column writers (``csv_chunks``, ``parquet_chunks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy
import orjson
import pyarrow as pa
import shapely
from sqlalchemy import Connection, func, select

from cityhub.conditional import latest
from cityhub.downloads import encoders
from cityhub.downloads.sql import batches, json_text
from cityhub.downloads.streaming import Head
from cityhub.downloads.urls import FORMATS
from cityhub.downloads.validators import etag
from cityhub.errors import NotFound
from cityhub.features import sources
from cityhub.features.sources import Collection, Source
from cityhub.features.summary import property_types
from cityhub.store import schema
from cityhub.store.access import PUBLIC, Hidden

BATCH_ROWS = 5_000
ROW_GROUP_ROWS = 50_000
_OURS = ("id", "geometry", "lon", "lat")
_features = schema.features


def find(connection: Connection, slug: str, hidden: Hidden) -> Collection:
    found = sources.find_collection(connection, slug, hidden)
    if found is None or found.is_sensors:  # the sensors' download is ``sensors.produce``
        raise NotFound(f"no collection '{slug}'")
    return found


def produce(connection: Connection, slug: str, extension: str, hidden: Hidden) -> Iterator[Any]:
    """The download's ``Head``, then its bytes."""
    found = find(connection, slug, hidden)
    assert found.id is not None
    source = sources.feature_source(found.id)
    count, modified = connection.execute(
        select(func.count(), func.max(_features.c.modified_at)).where(*source.base)
    ).one()
    visibility = connection.scalar(
        select(schema.datasets.c.visibility).where(schema.datasets.c.id == found.dataset_id)
    )
    last_modified = latest(found.modified_at, modified)
    tag = etag("collection", found.id, found.slug, extension, count, last_modified)
    filename = f"{found.slug}.{extension}"
    media_type = FORMATS[extension].media_type
    yield Head(media_type, filename, tag, last_modified, visibility in (None, PUBLIC))
    if extension == "geojson":
        yield from encoders.geojson_chunks(_features_of(connection, source))
        return
    # The properties' names and types alone, not the whole summary (extent, times, live names).
    types = property_types(connection, source, connection.dialect.name)
    if extension == "csv":
        yield from _csv(connection, source, list(types))
    else:
        yield from _parquet(connection, source, types)


def _rows(connection: Connection, source: Source, size: int) -> Iterator[list[Any]]:
    """Batches of (id, properties as JSON text, geometry as GeoJSON text), by id."""
    document = json_text(source.c.properties, connection.dialect.name)
    statement = select(source.c.id, document, source.c.geom).where(*source.base)
    return batches(connection, statement.order_by(source.c.id), size)


def _features_of(connection: Connection, source: Source) -> Iterator[list[bytes]]:
    for rows in _rows(connection, source, BATCH_ROWS):
        yield [encoders.feature(i, geom, orjson.Fragment(props)) for i, props, geom in rows]


def _documents(connection: Connection, source: Source, size: int) -> Iterator[list[Row]]:
    for rows in _rows(connection, source, size):
        yield [(feature_id, orjson.loads(props), geom) for feature_id, props, geom in rows]


def _csv(connection: Connection, source: Source, properties: list[str]) -> Iterator[bytes]:
    return csv_chunks(_documents(connection, source, BATCH_ROWS), properties)


def _parquet(connection: Connection, source: Source, types: dict[str, str]) -> Iterator[bytes]:
    return parquet_chunks(_documents(connection, source, ROW_GROUP_ROWS), types)


# --- the columns, shared with the sensors' download ----------------------------------------

#: A row of a download of features: its id, its values by property name, its geometry as
#: GeoJSON text (or None).
Row = tuple[Any, dict[str, Any], str | None]


def column_names(properties: list[str]) -> list[str]:
    """The columns of a collection's download (CSV and Parquet), its properties' among them."""
    named = [f"properties.{name}" if name in _OURS else name for name in properties]
    return ["id", *named, "geometry"]


def _shapes(rows: list[Row]) -> Any:
    return shapely.from_geojson(numpy.array([row[2] for row in rows], dtype=object))


def _cell(value: Any) -> Any:
    """A property value in a CSV cell: objects and arrays as JSON text."""
    if value is None or value.__class__ in (str, int, float):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    return orjson.dumps(value).decode()


def csv_chunks(batches: Iterable[list[Row]], properties: list[str]) -> Iterator[bytes]:
    """CSV of features: a header row, then one chunk per batch of rows; ``properties`` are
    the names of the columns between ``id`` and the geometry."""
    writer = encoders.CsvChunks()
    yield writer.chunk([[*column_names(properties), "lon", "lat"]])
    for rows in batches:
        shapes = _shapes(rows)
        texts = shapely.to_wkt(shapes, rounding_precision=-1)
        points = shapely.get_type_id(shapes) == 0
        xs, ys = shapely.get_x(shapes), shapely.get_y(shapes)
        lines = []
        for index, (feature_id, values, _) in enumerate(rows):
            line = [feature_id, *(_cell(values.get(name)) for name in properties), texts[index]]
            line += [xs[index], ys[index]] if points[index] else [None, None]
            lines.append(line)
        yield writer.chunk(lines)


_ARROW_TYPES = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}


def geoparquet_metadata() -> dict[bytes, bytes]:
    """GeoParquet 1.1: the geometry column in WKB, WGS 84 longitude/latitude (the default)."""
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}},
    }
    return {b"geo": orjson.dumps(geo)}


def parquet_schema(types: dict[str, str]) -> pa.Schema:
    names = column_names(list(types))
    fields = [pa.field("id", pa.int64(), nullable=False)]
    for name, kind in zip(names[1:-1], types.values(), strict=True):
        fields.append(pa.field(name, _ARROW_TYPES.get(kind, pa.string())))
    fields.append(pa.field("geometry", pa.binary()))
    return pa.schema(fields, metadata=geoparquet_metadata())


_INT64 = range(-(2**63), 2**63)


def _text(value: Any) -> Any:
    return value if value is None or value.__class__ is str else _cell(value)


def _boolean(value: Any) -> Any:
    return value if value is True or value is False else None


def _number(value: Any) -> Any:
    return value if value.__class__ in (int, float) else None


def _integer(value: Any) -> Any:
    """A whole number that fits an int64 (JSON's may not), else missing."""
    if value.__class__ is int:
        return value if value in _INT64 else None
    if value.__class__ is float and value.is_integer() and -(2.0**63) <= value < 2.0**63:
        return int(value)
    return None


#: A property value fit for its column (by JSON Schema type): of the column's type, else
#: missing. Chosen once per column, not per value.
_FIT = {"integer": _integer, "number": _number, "boolean": _boolean}


def parquet_chunks(batches: Iterable[list[Row]], types: dict[str, str]) -> Iterator[bytes]:
    """GeoParquet of features, one row group per batch of rows; ``types``: the JSON Schema
    type of each column between ``id`` and the geometry, by property name."""
    schema_ = parquet_schema(types)
    columns = [
        (name, _FIT.get(kind, _text), schema_.field(index + 1).type)
        for index, (name, kind) in enumerate(types.items())
    ]

    def tables() -> Iterator[pa.Table]:
        for rows in batches:
            arrays = [pa.array([row[0] for row in rows], pa.int64())]
            for name, fit, kind in columns:
                arrays.append(pa.array([fit(row[1].get(name)) for row in rows], kind))
            arrays.append(pa.array(shapely.to_wkb(_shapes(rows)), pa.binary()))
            yield pa.Table.from_arrays(arrays, schema=schema_)

    yield from encoders.parquet_chunks(schema_, tables())
