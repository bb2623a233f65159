"""Typed SQL operands of ``$filter``/``$orderby`` expressions, and where the backends differ.

An operand is SQL plus the kind of value it holds. JSON members and Observation results are
typed late: ``properties/level`` is a number only where a number is wanted, and then only
rows holding a number match. Everything that SQLite and PostgreSQL spell differently (JSON
access, times as text, ISO strings read as times) is decided here, once for every caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    FromClause,
    Integer,
    Text,
    case,
    cast,
    func,
    literal,
)

from cityhub.errors import BadRequest
from cityhub.store import schema
from cityhub.store.types import SRID
from cityhub.timeutil import STRICT_INSTANT_PATTERN

NUMBER, STRING, BOOLEAN, TIME, NULL, JSON, RESULT, GEOMETRY = (
    "number",
    "string",
    "boolean",
    "time",
    "null",
    "json",
    "result",
    "geometry",
)
DATE, TIME_OF_DAY = "date", "time of day"

#: The SQLite function (registered in ``store.dialects``) that reads such an instant.
SQLITE_INSTANT_FUNCTION = "cityhub_instant"


@dataclass
class Value:
    """A translated operand: SQL plus what kind of value it is.

    Time values carry ``end`` (the interval end, or the start again for instants). JSON
    members and Observation results carry ``source`` and are typed only once the other
    operand or the function says which type is wanted. Dates and times of day are text
    ``YYYY-MM-DD`` and ``HH:MM:SS.ffffff`` on both backends.
    """

    sql: Any
    type: str
    end: Any = None
    source: tuple[Any, tuple[str | int, ...]] | None = None


def is_deferred(value: Value) -> bool:
    """Whether the value's type is only known once it is wanted as something."""
    return value.type in (JSON, RESULT)


def expect(value: Value, want: str, where: str, backend: str) -> Any:
    """SQL for ``value`` where only a ``want`` value makes sense (JSON members are typed).

    A JSON string stands for a date as it is written (``YYYY-MM-DD``); JSON holds no
    geometries or times of day that SQL could read.
    """
    if value.type == want:
        return value.sql
    if is_deferred(value) and want in (NUMBER, STRING, BOOLEAN, DATE):
        return materialise(value, STRING if want == DATE else want, backend)
    raise BadRequest(f"expected a {want} value {where}, got a {value.type} value")


def materialise(value: Value, want: str | None, backend: str) -> Any:
    """SQL for ``value``, typed as ``want`` where the value is a JSON member or a result."""
    if value.type == RESULT:
        return _result(value.sql, want, backend)
    if value.type != JSON:
        return value.sql
    assert value.source is not None
    column, path = value.source
    if not path:
        if want in (NUMBER, STRING, BOOLEAN):
            raise BadRequest(
                f"a whole JSON document is not a {want}: compare one of its members, "
                "e.g. properties/name"
            )
        return column
    return json_member(column, path, want, backend)


def _result(table: FromClause, want: str | None, backend: str) -> Any:
    kind = table.c.result_type
    if want == NULL:  # NULL exactly when the result is null, whatever its type
        return func.nullif(kind, schema.RESULT_NULL)
    if want == STRING:
        return table.c.result_string
    if want == BOOLEAN:
        return json_member(table.c.result_json, (), BOOLEAN, backend)
    return table.c.result_number  # numbers, and the natural sort key


def json_member(column: Any, path: tuple[str | int, ...], want: str | None, backend: str) -> Any:
    """The member at ``path`` of a JSON column; NULL unless it holds a ``want`` value."""
    if backend == "postgresql":
        keys = literal([str(p) for p in path], type_=_pg_text_array())
        member = column.op("#>")(keys)
        text_value = column.op("#>>")(keys)
        json_type = func.jsonb_typeof(member)
        typed = {
            NUMBER: ("number", cast(text_value, Float)),
            STRING: ("string", text_value),
            BOOLEAN: ("boolean", cast(text_value, Boolean)),
        }
    else:
        json_path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f'."{p}"' for p in path)
        member = func.json_extract(column, json_path)
        json_type = func.json_type(column, json_path)
        typed = {
            NUMBER: (("integer", "real"), member),
            STRING: ("text", member),
            BOOLEAN: (("true", "false"), member),
        }
    if want == NULL and backend == "postgresql":
        return text_value  # SQL NULL for a JSON null too, as SQLite's json_extract
    if want not in typed:
        return member
    types, sql = typed[want]
    matches = json_type.in_(types) if isinstance(types, tuple) else json_type == types
    return case((matches, sql), else_=None)


def _pg_text_array() -> Any:
    from sqlalchemy.dialects.postgresql import ARRAY

    return ARRAY(Text)


# --- times ---------------------------------------------------------------------------------


def time_bounds(value: Value, where: str, backend: str) -> tuple[Any, Any]:
    """Start and end of a time value as SQL instants; ISO strings in JSON are read as times.

    A JSON string holding ``start/end`` is an interval; anything not an ISO 8601 instant
    with an offset (or such an interval) is NULL and so matches nothing.
    """
    if value.type == TIME:
        return value.sql, value.end if value.end is not None else value.sql
    if not is_deferred(value):
        raise BadRequest(f"expected a time value {where}, got a {value.type} value")
    text = materialise(value, STRING, backend)
    slash = func.instr(text, "/") if backend == "sqlite" else func.strpos(text, "/")
    first = case((slash > 0, func.substr(text, 1, slash - 1)), else_=text)
    second = case((slash > 0, func.substr(text, slash + 1)), else_=text)
    start, end = instant_from_text(first, backend), instant_from_text(second, backend)
    # Half an interval is no time: both ends or neither.
    return case((end.is_(None), None), else_=start), case((start.is_(None), None), else_=end)


def instant_from_text(text: Any, backend: str) -> Any:
    """An ISO 8601 string as an instant comparable with stored times, NULL if it is none."""
    if backend == "sqlite":
        return getattr(func, SQLITE_INSTANT_FUNCTION)(text)
    # Nested CASEs: PostgreSQL evaluates their conditions in order, so nothing that fails
    # the pattern, nor a 31 February, ever reaches the cast (which would raise).
    first_of_month = cast(func.substr(text, 1, 7).concat("-01"), Date())
    day = cast(func.substr(text, 9, 2), Integer) - 1
    real_day = func.to_char(first_of_month + day, "YYYY-MM-DD") == func.substr(text, 1, 10)
    valid = case((real_day, cast(text, DateTime(timezone=True))), else_=None)
    return case((text.op("~")(STRICT_INSTANT_PATTERN), valid), else_=None)


def time_text(instant: Any, backend: str) -> Any:
    """An instant as UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` (how SQLite stores it)."""
    if backend == "sqlite":
        return instant
    return func.to_char(func.timezone("UTC", instant), "YYYY-MM-DD HH24:MI:SS.US")


# --- geometries ----------------------------------------------------------------------------


def geometry_from_geojson(geojson: Any) -> Any:
    """A geometry from GeoJSON (text or a JSON column), in WGS 84 like the stored ones."""
    return func.ST_SetSRID(func.ST_GeomFromGeoJSON(cast(geojson, Text)), SRID)
