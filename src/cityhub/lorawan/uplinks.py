"""Stored uplinks: the deduplication record, one row per uplink, with its radio metadata.

``insert_new`` inserts a batch and tells which rows are new, in one statement per batch:

- PostgreSQL: ``INSERT … SELECT FROM jsonb_to_recordset(rows) ON CONFLICT DO NOTHING
  RETURNING`` — the rows travel as one JSON document (made by orjson in a fraction of the
  time a parameter per value takes), one round trip whatever the batch size, and it is safe
  when several hub processes insert the same uplink at once (the primary key decides, the
  loser sees no row returned);
- SQLite: the writer holds the database's write lock from the start of its transaction
  (``BEGIN IMMEDIATE``), so a lookup of the keys present followed by one ``executemany`` of
  the others cannot race with anyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, tuple_
from sqlalchemy import select as sql_select

from cityhub.store import schema
from cityhub.store.bulk import BulkLoader

_table = schema.lorawan_uplinks
COLUMNS = (
    "dev_eui",
    "dedup_key",
    "integration",
    "received_at",
    "stored_at",
    "session",
    "f_cnt",
    "f_port",
    "rssi",
    "snr",
    "spreading_factor",
    "gateway_count",
    "frequency",
)
_PG_TYPES = {
    "received_at": "timestamptz",
    "stored_at": "timestamptz",
    "f_cnt": "int8",
    "f_port": "int2",
    "rssi": "float8",
    "snr": "float8",
    "spreading_factor": "int2",
    "gateway_count": "int2",
    "frequency": "int8",
}
_PG_INSERT = (
    f"INSERT INTO lorawan_uplinks ({', '.join(COLUMNS)}) "
    f"SELECT {', '.join(COLUMNS)} FROM jsonb_to_recordset(%(rows)s::jsonb) AS r("
    + ", ".join(f"{c} {_PG_TYPES.get(c, 'text')}" for c in COLUMNS)
    + ") ON CONFLICT (dev_eui, dedup_key) DO NOTHING RETURNING dev_eui, dedup_key"
)
_SQLITE_INSERT = (
    f"INSERT INTO lorawan_uplinks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_SQLITE_LOOKUP_CHUNK = 400
_TIMES = ("received_at", "stored_at")


def insert_new(connection: Connection, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert the uplinks not stored yet (rows unique by DevEUI and key); their keys."""
    if not rows:
        return set()
    if connection.dialect.name == "postgresql":
        document = orjson.dumps(rows).decode()
        result = connection.exec_driver_sql(_PG_INSERT, {"rows": document})
        return {(eui, key) for eui, key in result}
    keys = [(row["dev_eui"], row["dedup_key"]) for row in rows]
    present = _present(connection, keys)
    fresh = [row for row, key in zip(rows, keys, strict=True) if key not in present]
    if fresh:
        loader = BulkLoader(connection)
        times = {
            name: loader.times([row[name] for row in fresh])
            for name in ("received_at", "stored_at")
        }
        values = [
            tuple(times[name][i] if name in times else row[name] for name in COLUMNS)
            for i, row in enumerate(fresh)
        ]
        connection.exec_driver_sql(_SQLITE_INSERT, values)
    return {key for key in keys if key not in present}


def _present(connection: Connection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    pair = tuple_(_table.c.dev_eui, _table.c.dedup_key)
    for start in range(0, len(keys), _SQLITE_LOOKUP_CHUNK):
        chunk = keys[start : start + _SQLITE_LOOKUP_CHUNK]
        statement = sql_select(_table.c.dev_eui, _table.c.dedup_key).where(pair.in_(chunk))
        found.update((eui, key) for eui, key in connection.execute(statement))
    return found


def prune(connection: Connection, before: datetime) -> int:
    """Forget the uplinks received before ``before``; how many were forgotten.

    The records exist to recognise an uplink that arrives again (redelivery, a second
    integration) and to keep its radio metadata; after the retention period neither is
    needed, and a table that only grows would cost a city's database for years.
    """
    table = schema.lorawan_uplinks
    return connection.execute(delete(table).where(table.c.received_at < before)).rowcount
