"""The CQL2 syntax tree as one SQLAlchemy condition, on SQLite or PostgreSQL.

Names are resolved by the caller into ``Queryable``s; members of a JSON document compare as
typed values (``"Baujahr" > 1900`` only matches numbers), as ``$filter`` does in the
SensorThings face, whose typed operands are reused here.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    Integer,
    Text,
    and_,
    bindparam,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)

from cityhub.errors import BadRequest
from cityhub.features.cql2 import spatial, temporal
from cityhub.features.cql2.arithmetic import arithmetic
from cityhub.features.cql2.like import like
from cityhub.features.cql2.nodes import (
    ARITHMETIC,
    COMPARISONS,
    SPATIAL,
    TEMPORAL,
    DateLiteral,
    Geometry,
    Interval,
    ListOf,
    Literal,
    Node,
    Op,
    Property,
    Timestamp,
)
from cityhub.features.cql2.queryables import Queryable, UnknownQueryable
from cityhub.sensorthings.operands import (
    BOOLEAN,
    DATE,
    GEOMETRY,
    JSON,
    NULL,
    NUMBER,
    STRING,
    TIME,
    Value,
    expect,
    geometry_from_geojson,
    is_deferred,
    materialise,
    time_bounds,
)
from cityhub.store import folding
from cityhub.store.types import UTCDateTime

__all__ = ["to_sql"]

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_PREDICATES = frozenset(
    {*COMPARISONS, *SPATIAL, *TEMPORAL, "and", "or", "not", "like", "between", "in", "isNull"}
    | {"s_dwithin"}
)
_MIN_TIME = datetime(1, 1, 1, tzinfo=UTC)
_MAX_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@dataclass
class _Day(Value):
    """A ``DATE('…')`` literal, which against times stands for its whole (UTC) day."""

    day: tuple[Any, Any] = (None, None)


class _Translator:
    def __init__(self, resolve: Callable[[str], Queryable], backend: str) -> None:
        self.resolve = resolve
        self.backend = backend

    # --- conditions -------------------------------------------------------------------------

    def condition(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Op) and node.op in _PREDICATES:
            return self.predicate(node)
        if isinstance(node, Literal) and isinstance(node.value, bool):
            return true() if node.value else false()
        value = self.value(node)
        if value.type in (BOOLEAN, JSON):
            return materialise(value, BOOLEAN, self.backend) == true()
        raise BadRequest(
            f"a filter is made of predicates (true or false), not a {value.type} value "
            f"(at {node.at})"
        )

    def predicate(self, node: Op) -> ColumnElement[bool]:
        op, args, at = node.op, node.args, node.at
        if op in ("and", "or"):
            return (and_ if op == "and" else or_)(*(self.condition(arg) for arg in args))
        if op == "not":
            return not_(self.condition(args[0]))
        if op in ("like", "isNull", "in", "between"):
            return self.advanced(node)
        if op in TEMPORAL:
            first, second = (self.time(arg, op) for arg in args)
            return temporal.relation(op, first, second)
        values = [self.value(arg) for arg in args]
        if op in SPATIAL:
            return spatial.predicate(op, args, values, at, self.backend)
        if op == "s_dwithin":
            return spatial.dwithin(args, values, at, self.backend)
        return self.compare(op, values[0], values[1], at)

    def advanced(self, node: Op) -> ColumnElement[bool]:
        op, args, at = node.op, node.args, node.at
        first = self.value(args[0])
        if op == "like":
            return like(first, args[1], at, self.backend)
        if op == "isNull":
            if isinstance(args[0], Literal | Timestamp | DateLiteral | Interval | Geometry):
                return false()
            return materialise(first, NULL, self.backend).is_(None)
        if op == "between":
            low, high = self.value(args[1]), self.value(args[2])
            return and_(self.compare(">=", first, low, at), self.compare("<=", first, high, at))
        items = args[1].items if isinstance(args[1], ListOf) else (args[1],)
        values = [self.value(item) for item in items]
        kinds = {value.type for value in values}
        if len(kinds) == 1 and kinds <= {NUMBER, STRING, BOOLEAN} and first.type in (*kinds, JSON):
            wanted = materialise(first, kinds.pop(), self.backend)
            return wanted.in_([value.sql for value in values])
        return or_(*(self.compare("=", first, value, at) for value in values))

    def compare(self, op: str, left: Value, right: Value, at: str) -> ColumnElement[bool]:
        where = f"for '{op}' at {at}"
        if GEOMETRY in (left.type, right.type):
            raise BadRequest(
                "geometries are compared with spatial functions (S_INTERSECTS, S_EQUALS, …), "
                f"not with operators ({where})"
            )
        if TIME in (left.type, right.type):
            return self.compare_times(op, left, right, where)
        if DATE in (left.type, right.type):
            return _COMPARE[op](self.expect(left, DATE, where), self.expect(right, DATE, where))
        plain = (NUMBER, STRING, BOOLEAN)
        if left.type in plain and right.type in plain and left.type != right.type:
            raise BadRequest(f"cannot compare a {left.type} with a {right.type} value ({where})")
        left_sql = materialise(left, right.type, self.backend)
        right_sql = materialise(right, left.type, self.backend)
        return _COMPARE[op](left_sql, right_sql)

    def compare_times(self, op: str, left: Value, right: Value, where: str) -> Any:
        """Intervals compare as wholes: ``a > b`` means a starts after b ends."""
        left_start, left_end = self.bounds(left, where)
        right_start, right_end = self.bounds(right, where)
        if op == "=":
            return and_(left_start == right_start, left_end == right_end)
        if op == "<>":
            return or_(left_start != right_start, left_end != right_end)
        if op in (">", ">="):
            return _COMPARE[op](left_start, right_end)
        return _COMPARE[op](left_end, right_start)

    def time(self, node: Node, op: str) -> tuple[Any, Any]:
        return self.bounds(self.value(node), f"for {op.upper()} at {node.at}")

    def bounds(self, value: Value, where: str) -> tuple[Any, Any]:
        if isinstance(value, _Day):
            return value.day
        if value.type == TIME or is_deferred(value):
            return time_bounds(value, where, self.backend)
        raise BadRequest(f"expected a timestamp, date or interval {where}, got a {value.type}")

    def expect(self, value: Value, want: str, where: str) -> Any:
        return expect(value, want, where, self.backend)

    # --- values -----------------------------------------------------------------------------

    def value(self, node: Node) -> Value:
        if isinstance(node, Property):
            return self.property(node)
        if isinstance(node, Literal):
            return _literal(node.value)
        if isinstance(node, Timestamp | Interval):
            return _time(node)
        if isinstance(node, DateLiteral):
            start = datetime(node.value.year, node.value.month, node.value.day, tzinfo=UTC)
            day = (_instant(start), _instant(start + timedelta(days=1, microseconds=-1)))
            return _Day(literal(node.value.isoformat(), Text), DATE, day=day)
        if isinstance(node, Geometry):
            sql = geometry_from_geojson(literal(orjson.dumps(node.geojson).decode()))
            return Value(sql, GEOMETRY)
        if isinstance(node, ListOf):
            raise BadRequest(f"a list is only allowed after IN (at {node.at})")
        return self.operation(node)

    def operation(self, node: Op) -> Value:
        if node.op in _PREDICATES:
            return Value(self.predicate(node), BOOLEAN)
        if node.op in ("casei", "accenti"):
            where = f"for {node.op.upper()} at {node.at}"
            text = self.expect(self.value(node.args[0]), STRING, where)
            return Value(folding.fold_sql(text, node.op, self.backend), STRING)
        assert node.op in ARITHMETIC, node.op
        where = f"for '{node.op}' at {node.at}"
        left, right = (self.expect(self.value(arg), NUMBER, where) for arg in node.args)
        return Value(arithmetic(node.op, left, right, self.backend), NUMBER)

    def property(self, node: Property) -> Value:
        try:
            queryable = self.resolve(node.name)
        except UnknownQueryable as exc:
            raise BadRequest(f"{exc.message} (at {node.at})") from None
        kind, sql = queryable.type, queryable.sql
        if kind == "member":
            return Value(None, JSON, source=(sql, queryable.path))
        if kind == "interval":
            return Value(sql, TIME, end=func.coalesce(queryable.end, sql))
        if kind == "timestamp":
            return Value(sql, TIME, end=sql)
        return Value(sql, kind)


def _instant(moment: datetime) -> Any:
    return bindparam(None, moment, type_=UTCDateTime())


def _time(node: Timestamp | Interval) -> Value:
    if isinstance(node, Timestamp):
        sql = _instant(node.value)
        return Value(sql, TIME, end=sql)
    start = _end_of(node.start, first=True) if node.start else _MIN_TIME
    end = _end_of(node.end, first=False) if node.end else _MAX_TIME
    return Value(_instant(start), TIME, end=_instant(end))


def _end_of(bound: Timestamp | DateLiteral, first: bool) -> datetime:
    """An interval bound as an instant: a date starts at its first or ends at its last moment."""
    if isinstance(bound, Timestamp):
        return bound.value
    start = datetime(bound.value.year, bound.value.month, bound.value.day, tzinfo=UTC)
    return start if first else start + timedelta(days=1, microseconds=-1)


def _literal(value: str | int | float | bool) -> Value:
    if isinstance(value, bool):
        return Value(literal(value, Boolean), BOOLEAN)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return Value(literal(value, Integer), NUMBER)
    if isinstance(value, int | float):  # beyond 64 bits an integer is compared as a number
        return Value(literal(float(value), Float), NUMBER)
    return Value(literal(value, Text), STRING)


def to_sql(node: Node, resolve: Callable[[str], Queryable], backend: str) -> ColumnElement[bool]:
    """The filter ``node`` as a WHERE condition on ``backend`` (``sqlite`` or ``postgresql``).

    ``resolve`` maps a property name to its ``Queryable`` and raises ``UnknownQueryable``
    (a ``BadRequest``) for names that are none. Type errors are ``BadRequest``s saying where.
    """
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unknown backend {backend!r}")
    return _Translator(resolve, backend).condition(node)
