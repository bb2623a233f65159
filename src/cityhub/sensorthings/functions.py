"""The ``$filter`` function library (OGC 18-088 clause 9.3.3.5.2), each function as SQL.

Every function turns typed operands into one SQL expression that reads the same on SQLite
and PostgreSQL. Semantics follow OData where the specification borrows from it: ``indexof``
and ``substring`` count from zero, ``round`` rounds half away from zero. Times are kept in
UTC, so date/time functions see UTC fields and ``totaloffsetminutes`` is 0. Distances and
lengths are in the units of the coordinates (degrees for WGS 84), as PostGIS computes them
for geometries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import (
    Boolean,
    ColumnClause,
    Float,
    Integer,
    Numeric,
    Table,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    null,
    select,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table

from cityhub.errors import BadRequest
from cityhub.sensorthings.odata import Call, GeoLiteral, Literal
from cityhub.sensorthings.operands import (
    BOOLEAN,
    DATE,
    GEOMETRY,
    NUMBER,
    STRING,
    TIME,
    TIME_OF_DAY,
    Value,
    expect,
    is_deferred,
    time_bounds,
    time_text,
)
from cityhub.store.dialects import SPATIAL_PREDICATES
from cityhub.store.types import UTCDateTime

Builder = Callable[[Call, list[Value], str], Value]


def where(call: Call) -> str:
    """Where a function's argument went wrong, for error messages."""
    return f"for {call.name}() at position {call.pos}"


def _strings(call: Call, args: list[Value], backend: str) -> list[Any]:
    return [expect(arg, STRING, where(call), backend) for arg in args]


# --- strings -------------------------------------------------------------------------------


def _position(needle: Any, haystack: Any, backend: str) -> Any:
    """1-based position of ``needle`` in ``haystack``, 0 if absent (case-sensitive)."""
    if backend == "postgresql":
        return func.strpos(haystack, needle)
    return func.instr(haystack, needle)


def _string_function(build: Callable[..., Any], result: str) -> Builder:
    def apply(call: Call, args: list[Value], backend: str) -> Value:
        return Value(build(backend, *_strings(call, args, backend)), result)

    return apply


def _ends_with(backend: str, text: Any, suffix: Any) -> Any:
    start = func.length(text) - func.length(suffix) + 1
    return and_(start >= 1, func.substr(text, start) == suffix)


def _substring(call: Call, args: list[Value], backend: str) -> Value:
    """Zero-based ``substring(s, start[, length])``; a negative start or length counts as 0."""
    text = expect(args[0], STRING, where(call), backend)
    start = _greatest(_integer(call, 1, args[1], backend), 0, backend) + 1
    if len(args) == 2:
        return Value(func.substr(text, start), STRING)
    length = _greatest(_integer(call, 2, args[2], backend), 0, backend)
    return Value(func.substr(text, start, length), STRING)


def _integer(call: Call, index: int, value: Value, backend: str) -> Any:
    argument = call.args[index]
    if isinstance(argument, Literal):
        if not isinstance(argument.value, int) or isinstance(argument.value, bool):
            raise BadRequest(
                f"expected an integer {where(call)}, got {argument.value!r} "
                f"(at position {argument.pos})"
            )
        if not -(2**31) <= argument.value < 2**31:
            raise BadRequest(f"{argument.value} is out of range {where(call)}")
        return literal(argument.value, Integer)
    return cast(_floor(expect(value, NUMBER, where(call), backend), backend), Integer)


def _floor(number: Any, backend: str) -> Any:
    """SQLAlchemy replaces SQLite's floor() by Python's math.floor, which fails on NULL."""
    number = cast(number, Float)
    return func.floor(number) if backend == "postgresql" else -func.ceiling(-number)


def _greatest(value: Any, bound: int, backend: str) -> Any:
    # SQLite's max() with two arguments is the scalar maximum.
    return (func.greatest if backend == "postgresql" else func.max)(value, bound)


STRING_FUNCTIONS: dict[str, Builder] = {
    "substringof": _string_function(lambda b, needle, s: _position(needle, s, b) > 0, BOOLEAN),
    "startswith": _string_function(lambda b, s, prefix: _position(prefix, s, b) == 1, BOOLEAN),
    "endswith": _string_function(_ends_with, BOOLEAN),
    "indexof": _string_function(lambda b, s, needle: _position(needle, s, b) - 1, NUMBER),
    "tolower": _string_function(lambda b, s: func.lower(s), STRING),
    "toupper": _string_function(lambda b, s: func.upper(s), STRING),
    "trim": _string_function(lambda b, s: func.trim(s), STRING),
    "length": _string_function(lambda b, s: func.length(s), NUMBER),
    "concat": _string_function(lambda b, x, y: x.concat(y), STRING),
    "substring": _substring,
}


# --- dates and times -----------------------------------------------------------------------

# Where each field sits in the UTC text of an instant, a date and a time of day.
_FIELDS: dict[str, dict[str, tuple[int, int | None]]] = {
    "year": {TIME: (1, 4), DATE: (1, 4)},
    "month": {TIME: (6, 2), DATE: (6, 2)},
    "day": {TIME: (9, 2), DATE: (9, 2)},
    "hour": {TIME: (12, 2), TIME_OF_DAY: (1, 2)},
    "minute": {TIME: (15, 2), TIME_OF_DAY: (4, 2)},
    "second": {TIME: (18, 2), TIME_OF_DAY: (7, 2)},
    "fractionalseconds": {TIME: (20, None), TIME_OF_DAY: (9, None)},
    "date": {TIME: (1, 10), DATE: (1, None)},
    "time": {TIME: (12, None), TIME_OF_DAY: (1, None)},
}
_RESULTS = {"date": DATE, "time": TIME_OF_DAY}
_MIN_TIME = datetime(1, 1, 1, tzinfo=UTC)
_MAX_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _time_field(call: Call, args: list[Value], backend: str) -> Value:
    """A field of an instant (the start of an interval), a date or a time of day."""
    fields = _FIELDS[call.name]
    text, kind = _as_text(call, args[0], fields, backend)
    start, length = fields[kind]
    part = func.substr(text, start) if length is None else func.substr(text, start, length)
    if call.name == "fractionalseconds":  # the part is ".ffffff"
        return Value(cast(literal("0").concat(part), Float), NUMBER)
    if call.name in _RESULTS:
        return Value(part, _RESULTS[call.name])
    return Value(cast(part, Integer), NUMBER)


def _as_text(call: Call, value: Value, fields: dict[str, Any], backend: str) -> tuple[Any, str]:
    """The operand as text to cut fields from, and which of the kinds in ``fields`` it is."""
    if value.type == TIME or is_deferred(value):
        start, _ = time_bounds(value, where(call), backend)
        return time_text(start, backend), TIME
    if value.type in fields:
        return value.sql, value.type
    accepted = " or ".join(fields)
    raise BadRequest(f"expected a {accepted} value {where(call)}, got a {value.type} value")


def _total_offset_minutes(call: Call, args: list[Value], backend: str) -> Value:
    """Times are stored and compared in UTC: the offset is 0 wherever there is a time."""
    start, _ = time_bounds(args[0], where(call), backend)
    return Value(case((start.is_(None), None), else_=0), NUMBER)


def _constant_time(moment: Callable[[], datetime]) -> Builder:
    def apply(call: Call, args: list[Value], backend: str) -> Value:
        sql = bindparam(None, moment(), type_=UTCDateTime())
        return Value(sql, TIME, end=sql)

    return apply


TIME_FUNCTIONS: dict[str, Builder] = {
    **{name: _time_field for name in _FIELDS},
    "totaloffsetminutes": _total_offset_minutes,
    "now": _constant_time(lambda: datetime.now(UTC)),
    "mindatetime": _constant_time(lambda: _MIN_TIME),
    "maxdatetime": _constant_time(lambda: _MAX_TIME),
}


# --- math ----------------------------------------------------------------------------------


def _round(call: Call, args: list[Value], backend: str) -> Value:
    """Half away from zero: SQLite's round() does so, PostgreSQL's only for numeric."""
    number = expect(args[0], NUMBER, where(call), backend)
    if backend == "postgresql":
        return Value(cast(func.round(cast(number, Numeric)), Float), NUMBER)
    return Value(func.round(number), NUMBER)


def _floor_function(call: Call, args: list[Value], backend: str) -> Value:
    return Value(_floor(expect(args[0], NUMBER, where(call), backend), backend), NUMBER)


def _ceiling(call: Call, args: list[Value], backend: str) -> Value:
    number = cast(expect(args[0], NUMBER, where(call), backend), Float)
    return Value(func.ceiling(number), NUMBER)


MATH_FUNCTIONS: dict[str, Builder] = {
    "round": _round,
    "floor": _floor_function,
    "ceiling": _ceiling,
}


# --- geospatial ----------------------------------------------------------------------------

_RELATE_PATTERN = re.compile(r"[TF*012]{9}", re.IGNORECASE)


def _geometries(call: Call, args: list[Value], backend: str) -> list[Any]:
    return [expect(arg, GEOMETRY, where(call), backend) for arg in args[:2]]


def _spatial(sql_name: str, result: str) -> Builder:
    def apply(call: Call, args: list[Value], backend: str) -> Value:
        geometries = _geometries(call, args, backend)
        if any(_no_geometry(node) for node in call.args[:2]):
            # A feature that is not there: NULL, which no condition (nor its negation) meets.
            return Value(cast(null(), Boolean if result == BOOLEAN else Float), result)
        sql = getattr(func, sql_name)(*geometries)
        if backend == "sqlite" and sql_name in _BOX_PREDICATES:
            sql = _where_boxes_overlap(call, args, sql)
        return Value(sql, result)

    return apply


# Predicates that hold only where the bounding boxes overlap.
_BOX_PREDICATES = frozenset(
    {
        "ST_Intersects",
        "ST_Within",
        "ST_Contains",
        "ST_Equals",
        "ST_Touches",
        "ST_Overlaps",
        "ST_Crosses",
    }
)


def _no_geometry(node: Any) -> bool:
    return (
        isinstance(node, Literal)
        and isinstance(node.value, GeoLiteral)
        and (node.value.geojson is None)
    )


def _where_boxes_overlap(call: Call, args: list[Value], predicate: Any) -> Any:
    """On SQLite, compute ``predicate`` only where a stored geometry's box overlaps the box
    of a literal it is tested against (see ``where_boxes_overlap``)."""
    for stored, other in ((0, 1), (1, 0)):
        node = call.args[other]
        if isinstance(node, Literal) and isinstance(node.value, GeoLiteral) and node.value.geojson:
            bounds = shape(node.value.geojson).bounds
            filtered = where_boxes_overlap(args[stored].sql, bounds, predicate)
            if filtered is not predicate:
                return filtered
    return predicate


def where_boxes_overlap(geom: Any, bounds: tuple[float, ...], predicate: Any) -> Any:
    """On SQLite, compute ``predicate`` (shapely, per row) only for the rows whose stored
    geometry ``geom`` has a box the R*Tree index finds overlapping ``bounds`` (min x, min y,
    max x, max y); the others are false (NULL without a geometry, as the predicate itself
    would be). ``predicate`` unchanged where ``geom`` is no indexed column."""
    table = _indexed_table(geom)
    if table is None:
        return predicate
    min_x, min_y, max_x, max_y = bounds
    index = sql_table(
        f"{_base_name(table)}_geom_rtree",
        *(sql_column(name) for name in ("id", "minx", "maxx", "miny", "maxy")),
    )
    boxes = select(index.c.id).where(
        index.c.minx <= max_x,
        index.c.maxx >= min_x,
        index.c.miny <= max_y,
        index.c.maxy >= min_y,
    )
    return case((table.c.id.in_(boxes), predicate), (geom.is_not(None), false()), else_=None)


def _indexed_table(geom: Any) -> Any:
    """The table (or alias) whose spatial column ``geom`` is, if it has an R*Tree index."""
    if not isinstance(geom, ColumnClause) or geom.name != "geom":
        return None
    table = geom.table
    return table if isinstance(getattr(table, "element", table), Table) else None


def _base_name(table: Any) -> str:
    return str(getattr(table, "element", table).name)


def _relate(call: Call, args: list[Value], backend: str) -> Value:
    """``st_relate(a, b, 'T*F**F***')``: the pattern must be a literal DE-9IM pattern."""
    pattern = call.args[2]
    if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)) or not (
        _RELATE_PATTERN.fullmatch(pattern.value)
    ):
        raise BadRequest(
            f"the third argument {where(call)} must be a DE-9IM pattern string of 9 "
            f"characters from T F * 0 1 2, like 'T*F**F***' (at position {pattern.pos})"
        )
    first, second = _geometries(call, args, backend)
    return Value(func.ST_Relate(first, second, pattern.value.upper()), BOOLEAN)


def _unresolved_feature(call: Call, args: list[Value], backend: str) -> Value:
    """``cityhub.feature`` is replaced by its geometry before translation (``places``)."""
    raise BadRequest(f"cityhub.feature() cannot be used here (at position {call.pos})")


GEO_FUNCTIONS: dict[str, Builder] = {
    "cityhub.feature": _unresolved_feature,
    "geo.distance": _spatial("ST_Distance", NUMBER),
    "geo.length": lambda call, args, backend: Value(
        func.ST_Length(expect(args[0], GEOMETRY, where(call), backend)), NUMBER
    ),
    "geo.intersects": _spatial("ST_Intersects", BOOLEAN),
    **{f"st_{name}": _spatial(f"ST_{name.title()}", BOOLEAN) for name in SPATIAL_PREDICATES},
    "st_relate": _relate,
}

FUNCTIONS: dict[str, Builder] = {
    **STRING_FUNCTIONS,
    **TIME_FUNCTIONS,
    **MATH_FUNCTIONS,
    **GEO_FUNCTIONS,
}
