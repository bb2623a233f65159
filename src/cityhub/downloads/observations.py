"""A Datastream's Observations as a download: one row per Observation, oldest first.

Columns: ``id``, ``phenomenonTimeStart``, ``phenomenonTimeEnd``, ``resultTime``, ``result``.
Times are formatted by the database (``YYYY-MM-DDTHH:MM:SS.ffffffZ``), and for CSV the
result too, so the rows come out of the cursor ready to write: no Python object per value
beyond what the driver makes, which is what lets millions of rows stream at cursor speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Float,
    Select,
    Text,
    case,
    cast,
    null,
    select,
    type_coerce,
)

from cityhub.conditional import latest
from cityhub.downloads import encoders
from cityhub.downloads.sql import batches, instant_text, json_text, tuples
from cityhub.downloads.streaming import Head
from cityhub.downloads.urls import FORMATS
from cityhub.downloads.validators import etag
from cityhub.errors import NotFound
from cityhub.sensorthings.model import BY_NAME, OBSERVATION_TYPE_BASE
from cityhub.sensorthings.visibility import visible
from cityhub.store import schema
from cityhub.store.access import PUBLIC, Hidden

_observations = schema.observations
_datastreams = schema.datastreams
_things = schema.things
_datasets = schema.datasets

#: Rows fetched per step: one CSV or GeoJSON chunk; a Parquet row group is a few of them.
BATCH_ROWS = 10_000
ROW_GROUP_ROWS = 100_000

COLUMNS = ("id", "phenomenonTimeStart", "phenomenonTimeEnd", "resultTime", "result")


@dataclass(frozen=True)
class TimeRange:
    """``?from=`` (inclusive) and ``?to=`` (exclusive) on the phenomenonTime's start."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Datastream:
    id: int
    observation_type: str
    public: bool
    last_modified: datetime | None
    statistics: tuple[Any, ...]


def find(connection: Connection, datastream_id: int, hidden: Hidden) -> Datastream:
    """The Datastream if the reader may see it, with what its validators are made of."""
    d = _datastreams.c
    statement = (
        select(
            d.id,
            d.observation_type,
            _datasets.c.visibility,
            d.observation_count,
            d.latest_observation_id,
            d.phenomenon_time_start,
            d.phenomenon_time_end,
            d.result_time_start,
            d.result_time_end,
        )
        .select_from(
            _datastreams.join(_things, _things.c.id == d.thing_id).outerjoin(
                _datasets, _datasets.c.id == _things.c.dataset_id
            )
        )
        .where(d.id == datastream_id, *visible(BY_NAME["Datastream"], _datastreams, hidden))
    )
    row = connection.execute(statement).first()
    if row is None:
        raise NotFound(f"no Datastream {datastream_id}")
    public = row.visibility in (None, PUBLIC)
    modified = latest(row.phenomenon_time_end, row.phenomenon_time_start, row.result_time_end)
    return Datastream(row.id, row.observation_type, public, modified, tuple(row[3:]))


def produce(
    connection: Connection, datastream_id: int, extension: str, hidden: Hidden, span: TimeRange
) -> Iterator[Any]:
    """The download's ``Head``, then its bytes."""
    found = find(connection, datastream_id, hidden)
    # Weak: an edit of an Observation that moves neither count, latest nor extents keeps it.
    parts = ("datastream", found.id, extension, found.statistics, span.start, span.end)
    filename = f"datastream-{found.id}.{extension}"
    media_type = FORMATS[extension].media_type
    yield Head(media_type, filename, etag(*parts, weak=True), found.last_modified, found.public)
    if extension == "csv":
        yield from _csv(connection, found, span)
    elif extension == "geojson":
        yield from encoders.geojson_chunks(_features(connection, found, span))
    else:
        yield from _parquet(connection, found, span)


# --- reading ----------------------------------------------------------------------------------


def _times(dialect: str) -> list[ColumnElement[Any]]:
    o = _observations.c
    return [
        o.id,
        instant_text(o.phenomenon_time_start, dialect),
        instant_text(o.phenomenon_time_end, dialect),
        instant_text(o.result_time, dialect),
    ]


def _csv_result(dialect: str) -> ColumnElement[Any]:
    """The result as CSV writes it: a number, a text, or a JSON text (booleans, objects)."""
    o = _observations.c
    document = json_text(o.result_json, dialect)
    if dialect == "postgresql":
        # One type per column in PostgreSQL: all text (float8 prints shortest-exact).
        integer = cast(cast(o.result_number, BigInteger), Text)
        number = cast(o.result_number, Text)
    else:
        # SQLite hands over each value as it is: int, float or str.
        integer = cast(o.result_number, BigInteger)
        number = type_coerce(o.result_number, Float)
    return case(
        (o.result_type == schema.RESULT_INTEGER, integer),
        (o.result_type == schema.RESULT_FLOAT, number),
        (o.result_type == schema.RESULT_STRING, o.result_string),
        (o.result_type == schema.RESULT_NULL, null()),
        else_=document,
    )


def select_rows(datastream_id: int, span: TimeRange, columns: list[Any]) -> Select[Any]:
    """The Observations of a Datastream in the range, in time order (then by id)."""
    o = _observations.c
    conditions = [o.datastream_id == datastream_id]
    if span.start is not None:
        conditions.append(o.phenomenon_time_start >= span.start)
    if span.end is not None:
        conditions.append(o.phenomenon_time_start < span.end)
    return select(*columns).where(*conditions).order_by(o.phenomenon_time_start, o.id)


def csv_columns(dialect: str) -> list[Any]:
    """The columns of a CSV download, each a value ready to write."""
    return [*_times(dialect), _csv_result(dialect)]


def _rows(
    connection: Connection, found: Datastream, span: TimeRange, columns: list[Any], size: int
) -> Iterator[list[Any]]:
    """Batches of the Observations' rows, through a server-side cursor."""
    return batches(connection, select_rows(found.id, span, columns), size)


# --- formats ----------------------------------------------------------------------------------


def _csv(connection: Connection, found: Datastream, span: TimeRange) -> Iterator[bytes]:
    dialect = connection.dialect.name
    writer = encoders.CsvChunks()
    yield writer.chunk([COLUMNS])
    statement = select_rows(found.id, span, csv_columns(dialect))
    for rows in tuples(connection, statement, BATCH_ROWS):
        yield writer.chunk(rows)


def _typed_columns(dialect: str) -> list[Any]:
    o = _observations.c
    return [
        *_times(dialect),
        o.result_type,
        o.result_number,
        o.result_string,
        json_text(o.result_json, dialect),
        o.feature_of_interest_id,
    ]


def _value(row: Any) -> Any:
    """The result as JSON: ``orjson.Fragment`` for a stored JSON document."""
    kind = row[4]
    if kind == schema.RESULT_FLOAT:
        return row[5]
    if kind == schema.RESULT_INTEGER:
        return int(row[5])
    if kind == schema.RESULT_STRING:
        return row[6]
    if kind == schema.RESULT_NULL:
        return None
    document = row[7]
    # SQLite's numeric affinity gives a document that is a bare number back as that number.
    return orjson.Fragment(document) if isinstance(document, str) else document


def _features(connection: Connection, found: Datastream, span: TimeRange) -> Iterator[list[bytes]]:
    """Batches of Features: the Observation at its FeatureOfInterest's geometry."""
    geometries = _Geometries(connection)
    columns = _typed_columns(connection.dialect.name)
    for rows in _rows(connection, found, span, columns, BATCH_ROWS):
        shapes = geometries.of({row[8] for row in rows})
        yield [
            encoders.feature(
                row[0],
                shapes.get(row[8]),
                {
                    "phenomenonTimeStart": row[1],
                    "phenomenonTimeEnd": row[2],
                    "resultTime": row[3],
                    "result": _value(row),
                },
            )
            for row in rows
        ]


class _Geometries:
    """FeatureOfInterest geometries (GeoJSON text) by id, read once each; few per download
    as a rule, and the memory they take is bounded for a moving sensor's many."""

    LIMIT = 10_000

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.known: dict[int, str | None] = {}

    def of(self, ids: set[int]) -> dict[int, str | None]:
        missing = ids - self.known.keys()
        if missing:
            if len(self.known) + len(missing) > self.LIMIT:
                self.known.clear()
                missing = ids  # the batch's known ones went too
            table = schema.features_of_interest
            statement = select(table.c.id, table.c.geom).where(table.c.id.in_(sorted(missing)))
            self.known.update({row[0]: row[1] for row in self.connection.execute(statement)})
        return self.known


# Parquet: the result column's type follows the Datastream's observationType.
_RESULT_TYPES = {
    "OM_Measurement": pa.float64(),
    "OM_CountObservation": pa.int64(),
    "OM_TruthObservation": pa.bool_(),
    "OM_CategoryObservation": pa.string(),
}
_TIME = pa.timestamp("us", tz="UTC")


def parquet_schema(observation_type: str) -> pa.Schema:
    short = observation_type.removeprefix(OBSERVATION_TYPE_BASE)
    result = _RESULT_TYPES.get(short, pa.string())
    return pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("phenomenonTimeStart", _TIME, nullable=False),
            pa.field("phenomenonTimeEnd", _TIME),
            pa.field("resultTime", _TIME),
            pa.field("result", result),
        ]
    )


def _result_column(rows: list[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        numbers = [row[5] for row in rows]
        if pa.types.is_integer(kind):
            numbers = [None if n is None else int(n) for n in numbers]
        return pa.array(numbers, kind)
    if pa.types.is_boolean(kind):
        return pa.array([None if row[7] is None else row[7] == "true" for row in rows], kind)
    return pa.array([_text(row) for row in rows], kind)


def _text(row: Any) -> str | None:
    """A result of any type as text: a string as it is, anything else as JSON."""
    value = _value(row)
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _parquet(connection: Connection, found: Datastream, span: TimeRange) -> Iterator[bytes]:
    schema_ = parquet_schema(found.observation_type)
    result_type = schema_.field("result").type
    columns = _typed_columns(connection.dialect.name)

    def tables() -> Iterator[pa.Table]:
        for rows in _rows(connection, found, span, columns, ROW_GROUP_ROWS):
            arrays = [pa.array([row[0] for row in rows], pa.int64())]
            for index in (1, 2, 3):
                arrays.append(pa.array([row[index] for row in rows], pa.string()).cast(_TIME))
            arrays.append(_result_column(rows, result_type))
            yield pa.Table.from_arrays(arrays, schema=schema_)

    yield from encoders.parquet_chunks(schema_, tables())
