"""``$filter`` and ``$orderby`` expressions to SQL.

The syntax tree from ``odata`` becomes one SQLAlchemy expression; nothing is evaluated row by
row in Python. A path through a relation (``Datastream/Thing/name``) becomes a correlated
EXISTS around the smallest boolean expression that holds it, so to-many paths mean "any".
Values inside JSON documents compare as typed values: ``properties/level gt 1`` only matches
numbers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as TimeOfDay
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Numeric,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
)

from cityhub.errors import BadRequest
from cityhub.sensorthings.functions import FUNCTIONS
from cityhub.sensorthings.joins import related
from cityhub.sensorthings.model import EntityType, Kind, target_of
from cityhub.sensorthings.odata import BinaryOp, Call, GeoLiteral, Literal, Node, Path, UnaryOp
from cityhub.sensorthings.operands import (
    BOOLEAN,
    DATE,
    GEOMETRY,
    JSON,
    NULL,
    NUMBER,
    RESULT,
    STRING,
    TIME,
    TIME_OF_DAY,
    Value,
    expect,
    geometry_from_geojson,
    is_deferred,
    materialise,
    time_bounds,
)
from cityhub.store.types import UTCDateTime
from cityhub.timeutil import TimeValue

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_FLIPPED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "mod": operator.mod,
}


@dataclass
class _Scope:
    froms: list[FromClause] = field(default_factory=list)
    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    to_many: list[str] = field(default_factory=list)  # to-many relations the paths go through


class Translator:
    """Translates expressions over one entity type, whose rows come from ``table``."""

    def __init__(self, entity: EntityType, table: FromClause, backend: str) -> None:
        self.entity = entity
        self.table = table
        self.backend = backend
        self._scope: _Scope | None = None

    # --- entry points ----------------------------------------------------------------------

    def condition(self, node: Node) -> ColumnElement[bool]:
        """A WHERE condition for a ``$filter`` expression."""
        if isinstance(node, BinaryOp) and node.op in ("and", "or"):
            combine = and_ if node.op == "and" else or_
            return combine(self.condition(node.left), self.condition(node.right))
        if isinstance(node, UnaryOp) and node.op == "not":
            return not_(self.condition(node.operand))
        return self._scoped(lambda: self._boolean(node))

    def order_key(self, node: Node) -> tuple[Any, bool]:
        """An ORDER BY key and whether it can be NULL (which decides the NULLS placement)."""
        outer, self._scope = self._scope, _Scope()
        try:
            value = self._value(node)
            if value.type == GEOMETRY:
                raise BadRequest(
                    "geometries have no order; order by a number such as geo.distance(…) "
                    f"(at position {_position_of(node)})"
                )
            # A bare NULL is no sort key for PostgreSQL ("non-integer constant").
            sql = cast(null(), Integer) if value.type == NULL else self._materialise(value, None)
            scope = self._scope
        finally:
            self._scope = outer
        if scope.to_many:
            raise BadRequest(
                f"cannot order by a path through the to-many relation {scope.to_many[0]}: "
                "it holds many values; order by a single-valued path"
            )
        if scope.froms:
            sql = select(sql).select_from(*scope.froms).where(*scope.conditions).limit(1)
            return sql.scalar_subquery(), True
        return sql, getattr(sql, "nullable", True)

    # --- scopes: where relation paths become EXISTS ------------------------------------------

    def _scoped(self, build: Callable[[], ColumnElement[bool]]) -> ColumnElement[bool]:
        outer, self._scope = self._scope, _Scope()
        try:
            sql = build()
            scope = self._scope
        finally:
            self._scope = outer
        if not scope.froms:
            return sql
        return select(literal(1)).select_from(*scope.froms).where(*scope.conditions, sql).exists()

    def _join(self, froms: list[FromClause], condition: ColumnElement[bool]) -> None:
        assert self._scope is not None
        self._scope.froms.extend(froms)
        self._scope.conditions.append(condition)

    # --- booleans --------------------------------------------------------------------------

    def _boolean(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, BinaryOp) and node.op in _COMPARISONS:
            left, right = self._value(node.left), self._value(node.right)
            return self._compare(node.op, left, right, node.pos)
        if isinstance(node, BinaryOp) and node.op in ("and", "or"):
            return self.condition(node)
        if isinstance(node, UnaryOp) and node.op == "not":
            return not_(self._boolean(node.operand))
        value = self._value(node)
        if value.type in (BOOLEAN, JSON, RESULT):
            return self._materialise(value, BOOLEAN) == true()
        raise BadRequest(
            f"$filter must be a condition (true or false), not a {value.type} value "
            f"(at position {_position_of(node)})"
        )

    def _compare(self, op: str, left: Value, right: Value, pos: int) -> ColumnElement[bool]:
        where = f"for '{op}' at position {pos}"
        if right.type == NULL and left.type == NULL:
            return true() if op == "eq" else false()
        if right.type == NULL or left.type == NULL:
            other = left if right.type == NULL else right
            sql = self._materialise(other, NULL)
            if op not in ("eq", "ne"):
                return false()
            return sql.is_(None) if op == "eq" else sql.is_not(None)
        if left.type == TIME or right.type == TIME:
            return self._compare_times(op, left, right, where)
        if GEOMETRY in (left.type, right.type):
            raise BadRequest(
                "geometries are compared with geospatial functions (st_equals, st_within, …), "
                f"not with operators ({where})"
            )
        for kind in (DATE, TIME_OF_DAY):
            if kind in (left.type, right.type):
                left_sql = expect(left, kind, where, self.backend)
                return _COMPARISONS[op](left_sql, expect(right, kind, where, self.backend))
        plain = (NUMBER, STRING, BOOLEAN)
        if left.type in plain and right.type in plain and left.type != right.type:
            raise BadRequest(f"cannot compare a {left.type} with a {right.type} value ({where})")
        left_sql = self._materialise(left, right.type)
        right_sql = self._materialise(right, left.type)
        return _COMPARISONS[op](left_sql, right_sql)

    def _compare_times(self, op: str, left: Value, right: Value, where: str) -> Any:
        """Intervals compare as wholes: ``a gt b`` means a starts after b ends."""
        for side in (left, right):
            if side.type != TIME and not is_deferred(side):
                raise BadRequest(f"cannot compare a time with a {side.type} value ({where})")
        left_start, left_end = time_bounds(left, where, self.backend)
        right_start, right_end = time_bounds(right, where, self.backend)
        if op == "eq":
            return and_(left_start == right_start, left_end == right_end)
        if op == "ne":
            return or_(left_start != right_start, left_end != right_end)
        if op in ("gt", "ge"):
            return _COMPARISONS[op](left_start, right_end)
        return _COMPARISONS[op](left_end, right_start)

    # --- values ----------------------------------------------------------------------------

    def _value(self, node: Node) -> Value:
        if isinstance(node, Literal):
            return _literal(node)
        if isinstance(node, Path):
            return self._path(node)
        if isinstance(node, BinaryOp) and node.op in _ARITHMETIC:
            where = f"for '{node.op}' at position {node.pos}"
            left = self._expect(self._value(node.left), NUMBER, where)
            right = self._expect(self._value(node.right), NUMBER, where)
            return Value(_arithmetic(self.backend, node.op, left, right), NUMBER)
        if _is_boolean(node):
            return Value(self._boolean(node), BOOLEAN)
        if isinstance(node, UnaryOp) and node.op == "-":
            where = f"for '-' at position {node.pos}"
            return Value(-self._expect(self._value(node.operand), NUMBER, where), NUMBER)
        if isinstance(node, Call):
            return self._call(node)
        raise BadRequest(f"unsupported expression at position {_position_of(node)}")

    def _path(self, node: Path) -> Value:
        entity, table = self.entity, self.table
        segments = list(node.segments)
        index = 0
        while index < len(segments):
            segment = segments[index]
            rest = segments[index + 1 :]
            relation = entity.relation_by_name.get(segment) if isinstance(segment, str) else None
            if relation is not None:
                if not rest:
                    raise BadRequest(
                        f"'{segment}' is a navigation property; compare one of its properties, "
                        f"e.g. {segment}/name (at position {node.pos})"
                    )
                if relation.fk and rest in (["id"], ["@iot.id"]):
                    return Value(table.c[relation.fk], NUMBER)
                target = target_of(relation)
                alias = target.table.alias()
                froms, condition = related(relation, table, alias)
                self._join([*froms, alias], condition)
                if relation.many:
                    assert self._scope is not None
                    self._scope.to_many.append(segment)
                entity, table = target, alias
                index += 1
                continue
            return self._property(entity, table, segment, tuple(rest), node)
        raise BadRequest(f"empty property path at position {node.pos}")

    def _property(
        self,
        entity: EntityType,
        table: FromClause,
        name: str | int,
        rest: tuple[str | int, ...],
        node: Path,
    ) -> Value:
        if name in ("id", "@iot.id") and not rest:
            return Value(table.c.id, NUMBER)
        prop = entity.property_by_name.get(name) if isinstance(name, str) else None
        if prop is None:
            known = ", ".join(["id", *entity.property_by_name, *entity.relation_by_name])
            raise BadRequest(
                f"{entity.name} has no property '{name}' (at position {node.pos}); known: {known}"
            )
        kind = prop.kind
        if rest and kind not in (Kind.OBJECT, Kind.ANY, Kind.GEOMETRY, Kind.RESULT):
            raise BadRequest(f"'{name}' of {entity.name} has no members (at position {node.pos})")
        if kind is Kind.TEXT:
            return Value(table.c[prop.column], STRING)
        if kind is Kind.INSTANT:
            column = table.c[prop.column]
            return Value(column, TIME, end=column)
        if kind in (Kind.INTERVAL, Kind.TIME):
            start, end = (table.c[c] for c in prop.columns)
            return Value(start, TIME, end=func.coalesce(end, start))
        if kind is Kind.RESULT:
            if rest:
                return Value(None, JSON, source=(table.c.result_json, rest))
            return Value(table, RESULT)
        if kind is Kind.GEOMETRY and not rest:
            if prop is entity.spatial_property:
                return Value(table.c.geom, GEOMETRY)
            return Value(geometry_from_geojson(table.c[prop.column]), GEOMETRY)
        return Value(None, JSON, source=(table.c[prop.column], rest))

    def _call(self, node: Call) -> Value:
        builder = FUNCTIONS.get(node.name)
        if builder is None:  # the parser knows no function this table lacks
            raise BadRequest(f"unknown function '{node.name}' at position {node.pos}")
        return builder(node, [self._value(arg) for arg in node.args], self.backend)

    # --- typing deferred values ------------------------------------------------------------

    def _expect(self, value: Value, want: str, where: str) -> Any:
        return expect(value, want, where, self.backend)

    def _materialise(self, value: Value, want: str | None) -> Any:
        return materialise(value, want, self.backend)


def _arithmetic(backend: str, op: str, left: Any, right: Any) -> Any:
    """``left op right``; dividing by zero gives NULL (no match) rather than an error."""
    if op in ("div", "mod"):
        right = func.nullif(right, 0)
    if op == "mod":
        if backend == "postgresql":  # no % for double precision
            return func.mod(cast(left, Numeric), cast(right, Numeric))
        # SQLite's % truncates both operands to integers; OData keeps the fraction.
        return left - right * cast(left / right, Integer)
    return _ARITHMETIC[op](left, right)


def _is_boolean(node: Node) -> bool:
    if isinstance(node, BinaryOp):
        return node.op in _COMPARISONS or node.op in ("and", "or")
    return isinstance(node, UnaryOp) and node.op == "not"


def _position_of(node: Node) -> int:
    return getattr(node, "pos", 0)


def _literal(node: Literal) -> Value:
    value = node.value
    if value is None:
        return Value(None, NULL)
    if isinstance(value, bool):
        return Value(literal(value, Boolean), BOOLEAN)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return Value(literal(value, Integer), NUMBER)
    if isinstance(value, int | float):  # beyond 64 bits an integer is compared as a number
        return Value(literal(float(value), Float), NUMBER)
    if isinstance(value, str):
        return Value(literal(value, Text), STRING)
    if isinstance(value, datetime):
        sql = bindparam(None, value, type_=UTCDateTime())
        return Value(sql, TIME, end=sql)
    if isinstance(value, TimeValue):
        start = bindparam(None, value.start, type_=UTCDateTime())
        end = bindparam(None, value.end or value.start, type_=UTCDateTime())
        return Value(start, TIME, end=end)
    if isinstance(value, date):
        return Value(literal(value.isoformat(), Text), DATE)
    if isinstance(value, TimeOfDay):
        return Value(literal(value.strftime("%H:%M:%S.%f"), Text), TIME_OF_DAY)
    if isinstance(value, GeoLiteral):
        if value.geojson is None:
            return Value(geometry_from_geojson(null()), GEOMETRY)
        return Value(geometry_from_geojson(literal(orjson.dumps(value.geojson).decode())), GEOMETRY)
    raise BadRequest(
        f"a duration literal cannot be used here (at position {node.pos}); durations only "
        "bound time intervals, as in 2024-01-01T00:00:00Z/P1D"
    )
