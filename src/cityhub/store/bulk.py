"""Loading many rows at once, the fastest way each backend offers, with ids known up front.

- PostgreSQL: ids from the table's sequence in one statement, rows by binary ``COPY``.
- SQLite: ids following the table's ``sqlite_sequence`` entry, rows as one JSON array per
  chunk that the database takes apart itself (``json_each``); see ``_sqlite_insert``.

Both run inside the caller's transaction, so they belong in a function given to
``Store.write``. Values must be ready for the database: use ``BulkLoader.times`` and
``BulkLoader.documents`` to convert datetime and JSON columns.

Why explicit ids are safe:

- PostgreSQL: ``nextval`` never hands out a value twice, whatever other sessions do; ids taken
  by a transaction that rolls back are skipped, never reused.
- SQLite: the writer's transactions start with ``BEGIN IMMEDIATE``, so from the id lookup to
  the commit no other connection, in this process or another, can write. Ids start after the
  larger of the ``AUTOINCREMENT`` high-water mark and the largest id present, and inserting
  them moves that mark, so ids are never reused, even after the newest rows are deleted. A
  rollback undoes the rows and the mark together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Connection, Table, insert
from sqlalchemy.exc import DBAPIError

from cityhub.store.dialects import (
    normalise_geojson,
    sqlite_geometry_index,
    sqlite_geometry_index_fill,
)
from cityhub.store.types import Geometry, UTCDateTime

#: Rows from which an insert into a table with a geometry index indexes them after the
#: load (on SQLite; see ``_geometry_index_after_load``): fewer are indexed row by row.
INDEX_AFTER_ROWS = 500

_SQLITE_TIME_LENGTH = len("2026-01-01 00:00:00.000000")

# PostgreSQL type names for binary COPY, by the name SQLAlchemy compiles a column's type to.
_COPY_TYPES = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "FLOAT": "float8",
    "DOUBLE PRECISION": "float8",
    "TEXT": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSONB": "jsonb",
}


_Z_AT_END = itemgetter(-1)
_DECIMAL_POINT = itemgetter(19)
_SEPARATORS = itemgetter(4, 7, 10, 13, 16)  # of YYYY-MM-DDTHH:MM:SS


def _sqlite_times_from_utc_texts(texts: Sequence[Any]) -> list[str] | None:
    """SQLite's time texts cut from ISO 8601 UTC texts of one of two exact forms, or
    ``None`` if any text has another form (the caller then formats the datetimes)."""
    try:
        lengths = set(map(len, texts))
        if set(map(_Z_AT_END, texts)) != {"Z"}:
            return None
        if set(map(_SEPARATORS, texts)) != {("-", "-", "T", ":", ":")}:
            return None
        if lengths == {27} and set(map(_DECIMAL_POINT, texts)) == {"."}:
            return [text[:26].replace("T", " ") for text in texts]
        if lengths == {20}:
            return [text[:19].replace("T", " ") + ".000000" for text in texts]
    except TypeError:  # not all texts
        return None
    return None


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_time(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")[:_SQLITE_TIME_LENGTH]


def _each_once(values: Sequence[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """``convert`` of each value, ``None`` kept; a value given again in a row (the same
    object: a time or a provenance shared by every row) is converted once."""
    converted: list[Any] = []
    append = converted.append
    last: Any = None
    result: Any = None
    for value in values:
        if value is not last:
            last = value
            result = None if value is None else convert(value)
        append(result)
    return converted


class BulkLoader:
    """Bulk loading on one connection, inside its current transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"

    # --- values -------------------------------------------------------------------------

    def times(
        self, values: Sequence[datetime | None], texts: Sequence[Any] | None = None
    ) -> list[Any]:
        """A column of aware UTC datetimes as the backend stores them (see ``UTCDateTime``).

        ``texts``, if given, are the ISO 8601 texts ``values`` were parsed from. SQLite
        stores text "YYYY-MM-DD HH:MM:SS.ffffff"; from texts already in UTC with six or no
        fraction digits ("…T10:00:00.250000Z", "…T10:00:00Z") it is cut out in a fraction
        of the time formatting a datetime takes.
        """
        if self.postgresql:
            return list(values)
        if texts is not None and len(texts) == len(values):
            cut = _sqlite_times_from_utc_texts(texts)
            if cut is not None:
                return cut
        return _each_once(values, _sqlite_time)

    def documents(self, values: Sequence[Any]) -> list[Any]:
        """A column of JSON values; ``None`` is SQL NULL (as ``JSONDocument`` stores it)."""
        if self.postgresql:
            return [None if v is None else Jsonb(v, _json_text) for v in values]
        return _each_once(values, _json_text)

    # --- ids and rows -------------------------------------------------------------------

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """``count`` new ids for ``table``, never used before and never to be used again."""
        if count <= 0:
            return []
        execute = self.connection.exec_driver_sql
        if self.postgresql:
            sequence = _sequence(self.connection, table.name)
            # One array rather than a row per id: fetching rows one by one costs more.
            statement = (
                "SELECT array(SELECT nextval(%(sequence)s::regclass) "
                "FROM generate_series(1, %(n)s))"
            )
            return list(execute(statement, {"sequence": sequence, "n": count}).scalar_one())
        high_water = execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
            f'coalesce((SELECT max(id) FROM "{table.name}"), 0))',
            (table.name,),
        ).scalar_one()
        return list(range(high_water + 1, high_water + 1 + count))

    def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows given as mappings of column to Python value (the keys of the first
        row name the columns); datetime, JSON and geometry (GeoJSON text) columns are
        converted here."""
        if rows:
            self.insert_columns(table, {name: [row[name] for row in rows] for name in rows[0]})

    def insert_columns(self, table: Table, columns: Mapping[str, Sequence[Any]]) -> None:
        """Insert rows given column by column (equally long lists of Python values), for
        callers that have their values that way and need build no row mappings; converted
        as by ``insert``."""
        names = list(columns)
        count = len(columns[names[0]]) if names else 0
        if not count:
            return
        spatial = any(isinstance(table.c[name].type, Geometry) for name in names)
        if spatial and self.postgresql:
            # COPY cannot parse GeoJSON; SQLAlchemy's batched INSERT passes it through
            # ST_GeomFromGeoJSON, the geometry column's bind expression.
            values = zip(*columns.values(), strict=True)
            rows = [dict(zip(names, row, strict=True)) for row in values]
            self.connection.execute(insert(table), rows)
            return
        converted = [self.converted(table, name, columns[name]) for name in names]
        if spatial and "id" not in names and count >= INDEX_AFTER_ROWS:
            with _geometry_index_after_load(self.connection, table.name):
                self.load(table, names, zip(*converted, strict=True))
            return
        self.load(table, names, zip(*converted, strict=True))

    def converted(self, table: Table, name: str, values: Sequence[Any]) -> Sequence[Any]:
        """A column of Python values in the form the database takes (see ``insert``)."""
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            return self.times(values)
        if isinstance(kind, JSON):
            return self.documents(values)
        if isinstance(kind, Geometry):
            return [normalise_geojson(v) for v in values]
        return values

    def load(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert ``rows`` (tuples in the order of ``columns``) in one go."""
        names = ", ".join(f'"{name}"' for name in columns)
        if not self.postgresql:
            _sqlite_insert(self.connection, f'"{table.name}" ({names})', len(columns), rows)
            return
        types = [_copy_type(self.connection, table, name) for name in columns]
        statement = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)'
        raw = self.connection.connection.driver_connection
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.set_types(types)
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
        except raw.Error as exc:
            raise self._database_error(statement, exc) from exc

    def _database_error(self, statement: str, exc: Exception) -> DBAPIError:
        """A driver error as SQLAlchemy raises it for its own statements, so that the store
        and the faces treat it alike (a lost connection is invalidated and answered 503)."""
        dialect = self.connection.dialect
        raw = self.connection.connection.driver_connection
        lost = dialect.is_disconnect(exc, raw, None)
        if lost:
            self.connection.invalidate(exc)
        return DBAPIError.instance(
            statement,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        )


_SQLITE_CHUNK = 50_000  # rows per statement: bounded memory, one statement per many rows
_SQLITE_CHUNK_BYTES = 32 * 1024 * 1024  # and at most this much JSON (SQLite's limit is 1 GB)
_PLAIN_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
_NUL = b"\\u0000"


def _not_plain(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is left to the driver")


def _sqlite_insert(
    connection: Connection, into: str, width: int, rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows of ``width`` values as JSON arrays that SQLite takes apart itself.

    ``executemany`` hands the database one row at a time and releases Python's global lock
    around each; whenever another thread of the process is busy (a request, MQTT
    notifications), taking the lock back waits for that thread's switch interval, every
    row: a load of 200,000 rows fell from 190,000 to under 1,000 rows/s. One statement
    over a chunk takes the lock back once, and is as fast when nothing else runs.

    Values JSON cannot carry as the driver would (bytes, datetimes, subclasses, integers
    beyond 64 bits, text holding a NUL) send their chunk through ``executemany``. A
    non-finite float is stored as NULL, as SQLite stores NaN; an infinity could not be
    written as JSON either."""
    picks = ", ".join(f"json_extract(value, '$[{index}]')" for index in range(width))
    statement = f"INSERT INTO {into} SELECT {picks} FROM json_each(?)"
    marks = ", ".join("?" * width)
    one_by_one = f"INSERT INTO {into} VALUES ({marks})"
    execute = connection.exec_driver_sql
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) < _SQLITE_CHUNK:
            continue
        _sqlite_insert_chunk(execute, statement, one_by_one, chunk)
        chunk = []
    if chunk:
        _sqlite_insert_chunk(execute, statement, one_by_one, chunk)


def _sqlite_insert_chunk(
    execute: Callable[..., Any], statement: str, one_by_one: str, chunk: list[Sequence[Any]]
) -> None:
    try:
        payload = orjson.dumps(chunk, default=_not_plain, option=_PLAIN_JSON)
    except TypeError:
        payload = None
    if payload is None or _NUL in payload:  # SQLite's JSON functions end a text at a NUL
        execute(one_by_one, chunk)
        return
    if len(payload) > _SQLITE_CHUNK_BYTES and len(chunk) > 1:  # large geometries, documents
        half = len(chunk) // 2
        _sqlite_insert_chunk(execute, statement, one_by_one, chunk[:half])
        _sqlite_insert_chunk(execute, statement, one_by_one, chunk[half:])
        return
    execute(statement, (payload.decode(),))


@contextmanager
def _geometry_index_after_load(connection: Connection, table: str) -> Iterator[None]:
    """On SQLite, load the rows of the block without the trigger that puts each new row's
    box into the table's R*Tree index, then index them all in one go.

    Row by row, the trigger took more time than the rest of the insert (a trigger program
    and four calls into Python per row). It is dropped and made again from its stored
    definition inside the caller's transaction: no other connection ever sees the table
    without it, and a rollback restores it with everything else.
    """
    _, trigger = sqlite_geometry_index(table)
    execute = connection.exec_driver_sql
    definition = execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (trigger,)
    ).scalar()
    if definition is None:  # no index on this table
        yield
        return
    newest = execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar_one()
    execute(f'DROP TRIGGER "{trigger}"')
    try:
        yield
    finally:
        execute(definition)
    for statement in sqlite_geometry_index_fill(table):
        execute(statement, (newest,))


_SEQUENCES: dict[tuple[str, str], str] = {}


def _sequence(connection: Connection, table: str) -> str:
    """The sequence behind ``table.id`` (looked up once per database and table)."""
    key = (connection.engine.url.render_as_string(hide_password=True), table)
    found = _SEQUENCES.get(key)
    if found is None:
        statement = "SELECT pg_get_serial_sequence(%(table)s, 'id')"
        found = connection.exec_driver_sql(statement, {"table": table}).scalar_one()
        _SEQUENCES[key] = found
    return found


def _copy_type(connection: Connection, table: Table, column: str) -> str:
    compiled = table.c[column].type.compile(dialect=connection.dialect)
    try:
        return _COPY_TYPES[compiled]
    except KeyError:
        raise TypeError(f"bulk loading has no COPY type for {table.name}.{column}") from None
