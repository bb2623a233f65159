"""A Datastream's Observations as a download: the times (``observations``) and ``result``.

The result is kept in one of several columns, as its type says (``schema.RESULT_*``); CSV
reads it as the database writes it, Parquet as its column's type, set by the Datastream's
observationType, takes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Float,
    Text,
    case,
    cast,
    null,
    type_coerce,
)

from cityhub.downloads import observations
from cityhub.downloads.observations import Stream, TimeRange, Validators, ValueColumn
from cityhub.downloads.sql import json_text
from cityhub.sensorthings.operands import BOOLEAN, json_member
from cityhub.store import schema
from cityhub.store.access import Hidden

_observations = schema.observations
_datastreams = schema.datastreams


def find(connection: Connection, datastream_id: int, hidden: Hidden) -> tuple[str, Validators]:
    """The Datastream's observationType if the reader may see it, and what its validators
    are made of: the statistics it keeps (count, latest Observation, extents)."""
    d = _datastreams.c
    columns = [d.observation_type, d.observation_count, d.latest_observation_id]
    row = observations.find(connection, _datastreams, datastream_id, hidden, columns)
    return row.observation_type, observations.validators(row, *row[:3])


def produce(
    connection: Connection, datastream_id: int, extension: str, hidden: Hidden, span: TimeRange
) -> Iterator[Any]:
    """The download's ``Head``, then its bytes."""
    observation_type, found = find(connection, datastream_id, hidden)
    stream = datastream(datastream_id, observation_type, connection.dialect.name)
    yield from observations.produce(connection, stream, extension, span, found)


def datastream(datastream_id: int, observation_type: str, dialect: str) -> Stream:
    """The Datastream's download: one column ``result``."""
    o = _observations.c
    kind = observations.value_kind(observation_type)
    csv = _csv_result(dialect)
    result = ValueColumn("result", kind, csv, _arrow_result(kind, csv, dialect))
    typed = [o.result_type, o.result_number, o.result_string, json_text(o.result_json, dialect)]
    return Stream(
        o.datastream_id,
        datastream_id,
        f"datastream-{datastream_id}",
        [result],
        typed,
        lambda row: [_value(row)],
    )


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


def _arrow_result(kind: pa.DataType, csv: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The result as Parquet's column of ``kind`` reads it: numbers from the number column
    (empty for others), a boolean from the JSON one, a text as CSV writes it."""
    o = _observations.c
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return o.result_number
    if pa.types.is_boolean(kind):
        return json_member(o.result_json, (), BOOLEAN, dialect)
    return csv


def _value(row: Sequence[Any]) -> Any:
    """The result as JSON: ``orjson.Fragment`` for a stored JSON document."""
    kind = row[0]
    if kind == schema.RESULT_FLOAT:
        return row[1]
    if kind == schema.RESULT_INTEGER:
        return int(row[1])
    if kind == schema.RESULT_STRING:
        return row[2]
    if kind == schema.RESULT_NULL:
        return None
    document = row[3]
    # SQLite's numeric affinity gives a document that is a bare number back as that number.
    return orjson.Fragment(document) if isinstance(document, str) else document
