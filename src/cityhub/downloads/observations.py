"""The Observations of a Datastream or a MultiDatastream as a download: one row per
Observation, oldest first. What both downloads share is here; ``datastreams`` and
``multi_datastreams`` say what their values are.

Columns: ``id``, ``phenomenonTimeStart``, ``phenomenonTimeEnd``, ``resultTime``, then the
stream's values (``ValueColumn``): ``result`` for a Datastream, one column per component for a
MultiDatastream. Times are formatted by the database (``YYYY-MM-DDTHH:MM:SS.ffffffZ``), and
for CSV the values too, so the rows come out of the cursor ready to write: no Python object
per value beyond what the driver makes, which is what lets millions of rows stream at cursor
speed. Parquet's values are read typed as their column is (``arrow_array``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import ColumnElement, Connection, Select, select

from cityhub.conditional import latest
from cityhub.downloads import encoders
from cityhub.downloads.sql import batches, instant_text, tuples
from cityhub.downloads.streaming import Head
from cityhub.downloads.urls import FORMATS
from cityhub.downloads.validators import etag
from cityhub.errors import NotFound
from cityhub.sensorthings.model import BY_NAME, OBSERVATION_TYPE_BASE
from cityhub.sensorthings.visibility import visible
from cityhub.store import schema
from cityhub.store.access import PUBLIC, Hidden

_observations = schema.observations
_things = schema.things
_datasets = schema.datasets

#: Rows fetched per step: one CSV or GeoJSON chunk; a Parquet row group is a few of them.
BATCH_ROWS = 10_000
ROW_GROUP_ROWS = 100_000

TIME_COLUMNS = ("id", "phenomenonTimeStart", "phenomenonTimeEnd", "resultTime")

#: Parquet's type of a value, by the observationType (or multiObservationDataType) it has.
RESULT_TYPES = {
    "OM_Measurement": pa.float64(),
    "OM_CountObservation": pa.int64(),
    "OM_TruthObservation": pa.bool_(),
    "OM_CategoryObservation": pa.string(),
}
_TIME = pa.timestamp("us", tz="UTC")
#: Whole numbers beyond this are JSON's, not a double's: the store keeps them as JSON too.
_EXACT = 2**53


@dataclass(frozen=True)
class TimeRange:
    """``?from=`` (inclusive) and ``?to=`` (exclusive) on the phenomenonTime's start."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ValueColumn:
    """A column of values after the times: its header, its Parquet type, and what the
    database reads for it."""

    name: str
    kind: pa.DataType
    #: The value as CSV writes it: a number, a text, ``true``/``false`` or JSON text.
    csv: ColumnElement[Any]
    #: The value as ``arrow_array`` takes it for ``kind`` (NULL where it does not fit).
    arrow: ColumnElement[Any]


@dataclass(frozen=True)
class Stream:
    """A Datastream or MultiDatastream as its download needs it."""

    #: The column of ``observations`` naming the stream, and the stream's id.
    owner: Any
    id: int
    stem: str  # the file's name without its extension
    columns: list[ValueColumn]
    #: What GeoJSON reads of a row, and the row's values as JSON from them (one per column).
    json_columns: list[ColumnElement[Any]]
    json_values: Callable[[Sequence[Any]], list[Any]]


@dataclass(frozen=True)
class Validators:
    """What a stream's download's validators are made of."""

    parts: tuple[Any, ...]
    last_modified: datetime | None
    public: bool


def value_kind(observation_type: str) -> pa.DataType:
    """Parquet's type of a value of an observationType: ``string`` beyond the simple ones."""
    return RESULT_TYPES.get(observation_type.removeprefix(OBSERVATION_TYPE_BASE), pa.string())


#: The times a Datastream or MultiDatastream keeps of its Observations, on every write.
_EXTENTS = ("phenomenon_time_start", "phenomenon_time_end", "result_time_start", "result_time_end")


def find(
    connection: Connection,
    table: Any,
    stream_id: int,
    hidden: Hidden,
    columns: Sequence[Any],
) -> Any:
    """The row of a Datastream or MultiDatastream (``table``) if the reader may see it:
    ``columns``, its dataset's ``visibility`` and its extents. A 404 if not."""
    entity = BY_NAME["Datastream" if table is schema.datastreams else "MultiDatastream"]
    c = table.c
    statement = (
        select(*columns, _datasets.c.visibility, *(c[name] for name in _EXTENTS))
        .select_from(
            table.join(_things, _things.c.id == c.thing_id).outerjoin(
                _datasets, _datasets.c.id == _things.c.dataset_id
            )
        )
        .where(c.id == stream_id, *visible(entity, table, hidden))
    )
    row = connection.execute(statement).first()
    if row is None:
        raise NotFound(f"no {entity.name} {stream_id}")
    return row


def validators(row: Any, *parts: Any) -> Validators:
    """The validators of a stream's download from its row (``find``) and ``parts`` of its own:
    the extents are in the tag, the latest of them is ``Last-Modified``."""
    extents = tuple(getattr(row, name) for name in _EXTENTS)
    modified = latest(row.phenomenon_time_end, row.phenomenon_time_start, row.result_time_end)
    return Validators((*parts, *extents), modified, row.visibility in (None, PUBLIC))


def produce(
    connection: Connection, stream: Stream, extension: str, span: TimeRange, found: Validators
) -> Iterator[Any]:
    """The download's ``Head``, then its bytes."""
    # Weak: an edit of an Observation that moves none of the parts keeps it.
    tag = etag(stream.stem, extension, found.parts, span.start, span.end, weak=True)
    media_type = FORMATS[extension].media_type
    filename = f"{stream.stem}.{extension}"
    yield Head(media_type, filename, tag, found.last_modified, found.public)
    if extension == "csv":
        yield from _csv(connection, stream, span)
    elif extension == "geojson":
        yield from encoders.geojson_chunks(_features(connection, stream, span))
    else:
        yield from _parquet(connection, stream, span)


# --- reading ----------------------------------------------------------------------------------


def in_range(owner: Any, owner_id: int, span: TimeRange) -> list[ColumnElement[bool]]:
    """The conditions choosing the stream's Observations in the range."""
    o = _observations.c
    conditions = [owner == owner_id]
    if span.start is not None:
        conditions.append(o.phenomenon_time_start >= span.start)
    if span.end is not None:
        conditions.append(o.phenomenon_time_start < span.end)
    return conditions


def select_rows(owner: Any, owner_id: int, span: TimeRange, columns: list[Any]) -> Select[Any]:
    """The Observations of a stream in the range, in time order (then by id)."""
    o = _observations.c
    statement = select(*columns).where(*in_range(owner, owner_id, span))
    return statement.order_by(o.phenomenon_time_start, o.id)


def times(dialect: str) -> list[ColumnElement[Any]]:
    """The id and times of an Observation, as text ready to write."""
    o = _observations.c
    return [
        o.id,
        instant_text(o.phenomenon_time_start, dialect),
        instant_text(o.phenomenon_time_end, dialect),
        instant_text(o.result_time, dialect),
    ]


def csv_columns(stream: Stream, dialect: str) -> list[Any]:
    """The columns of a CSV download, each a value ready to write."""
    return [*times(dialect), *(column.csv for column in stream.columns)]


def _rows(
    connection: Connection, stream: Stream, span: TimeRange, columns: list[Any], size: int
) -> Iterator[list[Any]]:
    """Batches of the Observations' rows, through a server-side cursor."""
    return batches(connection, select_rows(stream.owner, stream.id, span, columns), size)


# --- formats ----------------------------------------------------------------------------------


def _csv(connection: Connection, stream: Stream, span: TimeRange) -> Iterator[bytes]:
    writer = encoders.CsvChunks()
    yield writer.chunk([[*TIME_COLUMNS, *(column.name for column in stream.columns)]])
    columns = csv_columns(stream, connection.dialect.name)
    statement = select_rows(stream.owner, stream.id, span, columns)
    for rows in tuples(connection, statement, BATCH_ROWS):
        yield writer.chunk(rows)


def _features(connection: Connection, stream: Stream, span: TimeRange) -> Iterator[list[bytes]]:
    """Batches of Features: the Observation at its FeatureOfInterest's geometry."""
    geometries = _Geometries(connection)
    o = _observations.c
    columns = [*times(connection.dialect.name), o.feature_of_interest_id, *stream.json_columns]
    names = [column.name for column in stream.columns]
    for rows in _rows(connection, stream, span, columns, BATCH_ROWS):
        shapes = geometries.of({row[4] for row in rows})
        features = []
        for row in rows:
            properties = {
                "phenomenonTimeStart": row[1],
                "phenomenonTimeEnd": row[2],
                "resultTime": row[3],
            }
            properties.update(zip(names, stream.json_values(row[5:]), strict=True))
            features.append(encoders.feature(row[0], shapes.get(row[4]), properties))
        yield features


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


def parquet_schema(stream: Stream) -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("phenomenonTimeStart", _TIME, nullable=False),
            pa.field("phenomenonTimeEnd", _TIME),
            pa.field("resultTime", _TIME),
            *(pa.field(column.name, column.kind) for column in stream.columns),
        ]
    )


def arrow_array(values: list[Any], kind: pa.DataType) -> pa.Array:
    """Values as read for a column (``ValueColumn.arrow``) as an array of its type; what does
    not fit it (a fraction or a number beyond 2**53 in an integer column) is null."""
    if pa.types.is_integer(kind):
        values = [_whole(value) for value in values]
    elif pa.types.is_boolean(kind):
        values = [None if value is None else bool(value) for value in values]
    elif pa.types.is_string(kind):
        values = [as_text(value) for value in values]
    return pa.array(values, kind)


def _whole(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and not value.is_integer()):
        return None
    return int(value) if abs(value) <= _EXACT else None


def as_text(value: Any) -> str | None:
    """A value of any type as text: a string as it is, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _parquet(connection: Connection, stream: Stream, span: TimeRange) -> Iterator[bytes]:
    schema_ = parquet_schema(stream)
    columns = [*times(connection.dialect.name), *(column.arrow for column in stream.columns)]

    def tables() -> Iterator[pa.Table]:
        for rows in _rows(connection, stream, span, columns, ROW_GROUP_ROWS):
            arrays = [pa.array([row[0] for row in rows], pa.int64())]
            for index in (1, 2, 3):
                arrays.append(pa.array([row[index] for row in rows], pa.string()).cast(_TIME))
            for index, column in enumerate(stream.columns, start=4):
                arrays.append(arrow_array([row[index] for row in rows], column.kind))
            yield pa.Table.from_arrays(arrays, schema=schema_)

    yield from encoders.parquet_chunks(schema_, tables())
