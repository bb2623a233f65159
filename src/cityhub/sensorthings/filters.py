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
from datetime import datetime
from typing import Any

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
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from cityhub.errors import BadRequest, NotImplementedYet
from cityhub.sensorthings.joins import related
from cityhub.sensorthings.model import EntityType, Kind, target_of
from cityhub.sensorthings.odata import BinaryOp, Call, GeoLiteral, Literal, Node, Path, UnaryOp
from cityhub.store import schema
from cityhub.store.types import UTCDateTime
from cityhub.timeutil import TimeValue

NUMBER, STRING, BOOLEAN, TIME, NULL, JSON, RESULT, GEOMETRY, OTHER = (
    "number",
    "string",
    "boolean",
    "time",
    "null",
    "json",
    "result",
    "geometry",
    "other",
)

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
class Value:
    """A translated operand: SQL plus what kind of value it is.

    Time properties carry ``end`` (the interval end, or the start again for instants). JSON
    members and Observation results carry ``source`` and are typed only once the other
    operand says which type to compare as.
    """

    sql: Any
    type: str
    end: Any = None
    source: tuple[Any, tuple[str | int, ...]] | None = None


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
            sql = self._materialise(value, None)
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
            return self._compare(node.op, self._value(node.left), self._value(node.right))
        if isinstance(node, BinaryOp) and node.op in ("and", "or"):
            return self.condition(node)
        if isinstance(node, UnaryOp) and node.op == "not":
            return not_(self._boolean(node.operand))
        value = self._value(node)
        if value.type in (BOOLEAN, JSON, RESULT):
            return self._materialise(value, BOOLEAN) == true()
        raise BadRequest(
            f"$filter must be a condition (true or false), not a {value.type} value "
            f"(at position {getattr(node, 'pos', 0)})"
        )

    def _compare(self, op: str, left: Value, right: Value) -> ColumnElement[bool]:
        if right.type == NULL and left.type == NULL:
            return true() if op == "eq" else false()
        if right.type == NULL or left.type == NULL:
            other = left if right.type == NULL else right
            sql = self._materialise(other, NULL)
            if op not in ("eq", "ne"):
                return false()
            return sql.is_(None) if op == "eq" else sql.is_not(None)
        if left.type == TIME or right.type == TIME:
            return self._compare_times(op, left, right)
        if GEOMETRY in (left.type, right.type):
            raise BadRequest(
                "geometries are compared with geospatial functions (st_equals, st_within, …), "
                "not with operators"
            )
        plain = (NUMBER, STRING, BOOLEAN)
        if left.type in plain and right.type in plain and left.type != right.type:
            raise BadRequest(f"cannot compare a {left.type} with a {right.type} value")
        left_sql = self._materialise(left, right.type)
        right_sql = self._materialise(right, left.type)
        return _COMPARISONS[op](left_sql, right_sql)

    def _compare_times(self, op: str, left: Value, right: Value) -> ColumnElement[bool]:
        """Intervals compare as wholes: ``a gt b`` means a starts after b ends."""
        for side in (left, right):
            if side.type not in (TIME, JSON, RESULT):
                raise BadRequest(f"cannot compare a time with a {side.type} value")
        left_start, left_end = self._time_bounds(left)
        right_start, right_end = self._time_bounds(right)
        if op == "eq":
            return and_(left_start == right_start, left_end == right_end)
        if op == "ne":
            return or_(left_start != right_start, left_end != right_end)
        if op in ("gt", "ge"):
            return _COMPARISONS[op](left_start, right_end)
        return _COMPARISONS[op](left_end, right_start)

    def _time_bounds(self, value: Value) -> tuple[Any, Any]:
        if value.type != TIME:
            sql = self._materialise(value, STRING)
            return sql, sql
        return value.sql, value.end if value.end is not None else value.sql

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
        raise BadRequest(f"unsupported expression at position {getattr(node, 'pos', 0)}")

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
        if prop is entity.spatial_property and not rest:
            return Value(table.c.geom, GEOMETRY)
        return Value(None, JSON, source=(table.c[prop.column], rest))

    def _call(self, node: Call) -> Value:
        builder = _FUNCTIONS.get(node.name)
        if builder is None:
            raise NotImplementedYet(f"the $filter function {node.name}() is not supported yet")
        return builder(self, [self._value(arg) for arg in node.args])

    # --- typing deferred values ------------------------------------------------------------

    def _expect(self, value: Value, want: str, where: str = "here") -> Any:
        """SQL for ``value`` where only a ``want`` value makes sense (JSON members are typed)."""
        if value.type not in (want, JSON, RESULT):
            raise BadRequest(f"expected a {want} value {where}, got a {value.type} value")
        return self._materialise(value, want)

    def _materialise(self, value: Value, want: str | None) -> Any:
        """SQL for ``value``, typed as ``want`` where the value is a JSON member or a result."""
        if value.type == RESULT:
            return self._result(value.sql, want)
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
        return self._json_member(column, path, want)

    def _result(self, table: FromClause, want: str | None) -> Any:
        kind = table.c.result_type
        if want == NULL:  # NULL exactly when the result is null, whatever its type
            return func.nullif(kind, schema.RESULT_NULL)
        if want == STRING:
            return table.c.result_string
        if want == BOOLEAN:
            return self._json_member(table.c.result_json, (), BOOLEAN)
        return table.c.result_number  # numbers, and the natural sort key

    def _json_member(self, column: Any, path: tuple[str | int, ...], want: str | None) -> Any:
        if self.backend == "postgresql":
            keys = [str(p) for p in path]
            member = column.op("#>")(literal(keys, type_=_pg_text_array()))
            text_value = column.op("#>>")(literal(keys, type_=_pg_text_array()))
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
        if want == NULL and self.backend == "postgresql":
            return text_value  # SQL NULL for a JSON null too, as SQLite's json_extract
        if want not in typed:
            return member
        types, sql = typed[want]
        matches = json_type.in_(types) if isinstance(types, tuple) else json_type == types
        return case((matches, sql), else_=None)


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


def _pg_text_array() -> Any:
    from sqlalchemy.dialects.postgresql import ARRAY

    return ARRAY(Text)


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
    if isinstance(value, GeoLiteral):
        raise NotImplementedYet("geometry literals in $filter are not supported yet")
    raise NotImplementedYet(f"{type(value).__name__} literals are not supported yet")


# --- functions ----------------------------------------------------------------------------

FunctionBuilder = Callable[[Translator, list[Value]], Value]


def _string_function(build: Callable[..., Any], result: str) -> FunctionBuilder:
    def apply(translator: Translator, args: list[Value]) -> Value:
        sql = [translator._expect(arg, STRING) for arg in args]
        return Value(build(translator, *sql), result)

    return apply


def _position(translator: Translator, needle: Any, haystack: Any) -> Any:
    """1-based position of ``needle`` in ``haystack``, 0 if absent (case-sensitive)."""
    if translator.backend == "postgresql":
        return func.strpos(haystack, needle)
    return func.instr(haystack, needle)


def _ends_with(translator: Translator, text: Any, suffix: Any) -> Any:
    start = func.length(text) - func.length(suffix) + 1
    return and_(start >= 1, func.substr(text, start) == suffix)


_FUNCTIONS: dict[str, FunctionBuilder] = {
    "substringof": _string_function(lambda t, needle, s: _position(t, needle, s) > 0, BOOLEAN),
    "startswith": _string_function(lambda t, s, prefix: _position(t, prefix, s) == 1, BOOLEAN),
    "endswith": _string_function(_ends_with, BOOLEAN),
    "tolower": _string_function(lambda t, s: func.lower(s), STRING),
    "toupper": _string_function(lambda t, s: func.upper(s), STRING),
    "trim": _string_function(lambda t, s: func.trim(s), STRING),
    "length": _string_function(lambda t, s: func.length(s), NUMBER),
    "concat": _string_function(lambda t, a, b: a.concat(b), STRING),
}
