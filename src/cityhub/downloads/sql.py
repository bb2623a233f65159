"""The SQL the downloads share: values as text formatted by the database, and rows read
through a server-side cursor in batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, Text, cast, type_coerce

from cityhub.sensorthings.json_sql import instant_digits


def json_text(column: Any, dialect: str) -> ColumnElement[Any]:
    """A JSON document as its text, not parsed (jsonb printed by PostgreSQL)."""
    return cast(column, Text) if dialect == "postgresql" else type_coerce(column, Text)


def instant_text(column: Any, dialect: str) -> ColumnElement[Any]:
    """An instant as ISO 8601 text in UTC (``YYYY-MM-DDTHH:MM:SS.ffffffZ``), formatted by the
    database as the SensorThings API's JSON is (``json_sql``): a row comes out of the cursor
    ready to write."""
    return instant_digits(column, dialect).concat("Z")


def batches(connection: Connection, statement: Executable, size: int) -> Iterator[list[Any]]:
    """The statement's rows in lists of ``size``, fetched through a server-side cursor on
    PostgreSQL (SQLite steps its cursor anyway): memory holds one batch, never the result."""
    streaming = connection.execution_options(stream_results=True, yield_per=size)
    result = streaming.execute(statement)
    try:
        yield from result.partitions(size)
    finally:
        result.close()


def tuples(connection: Connection, statement: Executable, size: int) -> Iterator[list[Any]]:
    """As ``batches``, but the driver's own tuples, fetched from its cursor directly: for
    statements whose every column comes out of the database as it is to be written (no
    result conversion), where building a result row per row would cost as much as the rest."""
    streaming = connection.execution_options(stream_results=True, yield_per=size)
    result = streaming.execute(statement)
    fetch = result.cursor.fetchmany  # before the result closes itself once exhausted
    try:
        # The first batch through the result, which has fetched a row ahead (to learn the
        # columns) and hands it out first; its buffer is empty after exactly ``size`` rows.
        first = result.fetchmany(size)
        if first:
            yield first
        while len(first) == size and (rows := fetch(size)):
            yield rows
    finally:
        result.close()
