"""Loading many rows at once, the fastest way each backend offers, with ids known up front.

- PostgreSQL: ids from the table's sequence in one statement, rows by binary ``COPY``.
- SQLite: ids following the table's ``sqlite_sequence`` entry, rows by one ``executemany``
  of plain SQL (no per-row work in SQLAlchemy).

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

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Connection, Table, insert
from sqlalchemy.exc import DBAPIError

from cityhub.store.dialects import normalise_geojson
from cityhub.store.types import Geometry, UTCDateTime

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
        return [
            None if v is None else v.isoformat(" ", "microseconds")[:_SQLITE_TIME_LENGTH]
            for v in values
        ]

    def documents(self, values: Sequence[Any]) -> list[Any]:
        """A column of JSON values; ``None`` is SQL NULL (as ``JSONDocument`` stores it)."""
        if self.postgresql:
            return [None if v is None else Jsonb(v, _json_text) for v in values]
        return [None if v is None else _json_text(v) for v in values]

    # --- ids and rows -------------------------------------------------------------------

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """``count`` new ids for ``table``, never used before and never to be used again."""
        if count <= 0:
            return []
        execute = self.connection.exec_driver_sql
        if self.postgresql:
            sequence = _sequence(self.connection, table.name)
            statement = "SELECT nextval(%(sequence)s::regclass) FROM generate_series(1, %(n)s)"
            return execute(statement, {"sequence": sequence, "n": count}).scalars().all()
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
        if not rows:
            return
        names = list(rows[0])
        spatial = any(isinstance(table.c[name].type, Geometry) for name in names)
        if spatial and self.postgresql:
            # COPY cannot parse GeoJSON; SQLAlchemy's batched INSERT passes it through
            # ST_GeomFromGeoJSON, the geometry column's bind expression.
            self.connection.execute(insert(table), list(rows))
            return
        columns = []
        for name in names:
            values = [row[name] for row in rows]
            kind = table.c[name].type
            if isinstance(kind, UTCDateTime):
                values = self.times(values)
            elif isinstance(kind, JSON):
                values = self.documents(values)
            elif isinstance(kind, Geometry):
                values = [normalise_geojson(v) for v in values]
            columns.append(values)
        self.load(table, names, zip(*columns, strict=True))

    def load(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert ``rows`` (tuples in the order of ``columns``) in one go."""
        names = ", ".join(f'"{name}"' for name in columns)
        if not self.postgresql:
            marks = ", ".join("?" * len(columns))
            statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
            self.connection.exec_driver_sql(statement, list(rows))
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
