"""CQL2 spatial functions as SQL: PostGIS on PostgreSQL, the registered shapely functions on
SQLite (with the R*Tree index narrowing the rows to test where a literal is involved).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape
from sqlalchemy import Float, and_, cast, func, literal
from sqlalchemy.types import UserDefinedType

from cityhub.errors import BadRequest
from cityhub.features.cql2.nodes import Geometry, Literal, Node
from cityhub.sensorthings.functions import where_boxes_overlap
from cityhub.sensorthings.operands import GEOMETRY, Value
from cityhub.store.dialects import metres_per_degree
from cityhub.store.types import SRID

#: Units of S_DWITHIN distances, in metres.
UNITS = {
    "meters": 1.0,
    "metres": 1.0,
    "m": 1.0,
    "kilometers": 1000.0,
    "kilometres": 1000.0,
    "km": 1000.0,
}
# Predicates that hold only where the bounding boxes overlap (not so S_DISJOINT).
_BOXED = frozenset(
    {"s_intersects", "s_within", "s_contains", "s_equals", "s_touches", "s_overlaps", "s_crosses"}
)


class _Geography(UserDefinedType[Any]):
    """PostGIS ``geography``: distances in metres on the WGS 84 ellipsoid."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "geography"


def geometries(op: str, values: list[Value], at: str) -> list[Any]:
    for value in values:
        if value.type != GEOMETRY:
            raise BadRequest(
                f"{op.upper()} compares geometries, got a {value.type} value (at {at})"
            )
    return [value.sql for value in values]


def predicate(op: str, nodes: tuple[Node, ...], values: list[Value], at: str, backend: str) -> Any:
    """``S_INTERSECTS(a, b)`` and the other simple-features predicates."""
    first, second = geometries(op, values[:2], at)
    sql = getattr(func, f"ST_{op[2:].title()}")(first, second)
    if backend == "sqlite" and op in _BOXED:
        sql = _boxed(nodes, values, sql, margin=None)
    return sql


def dwithin(nodes: tuple[Node, ...], values: list[Value], at: str, backend: str) -> Any:
    """``S_DWITHIN(a, b, distance, unit)``: within ``distance`` on the WGS 84 ellipsoid."""
    first, second = geometries("s_dwithin", values[:2], at)
    metres = _distance(nodes[2], nodes[3], at)
    if backend == "postgresql":
        sql = func.ST_DWithin(cast(first, _Geography()), cast(second, _Geography()), metres)
        return _enveloped(nodes, values, sql, metres)
    sql = func.cityhub_distance_metres(first, second) <= literal(metres, Float)
    return _boxed(nodes, values, sql, margin=metres)


def _enveloped(nodes: tuple[Node, ...], values: list[Value], sql: Any, metres: float) -> Any:
    """On PostGIS, a box around a literal lets the geometry index find the candidates that
    the geography distance (which no geometry index serves) then checks."""
    for stored, other in ((0, 1), (1, 0)):
        node = nodes[other]
        if isinstance(node, Geometry):
            bounds = _grown(shape(node.geojson).bounds, metres)
            envelope = func.ST_MakeEnvelope(*bounds, SRID)
            return and_(values[stored].sql.op("&&")(envelope), sql)
    return sql


def _distance(distance: Node, unit: Node, at: str) -> float:
    value = distance.value if isinstance(distance, Literal) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise BadRequest(f"S_DWITHIN needs a distance, a number >= 0, as third argument (at {at})")
    name = unit.value if isinstance(unit, Literal) else None
    if not isinstance(name, str) or name.lower() not in UNITS:
        raise BadRequest(
            f"S_DWITHIN needs a unit as fourth argument, one of {', '.join(UNITS)} (at {at})"
        )
    return float(value) * UNITS[name.lower()]


def _boxed(nodes: tuple[Node, ...], values: list[Value], sql: Any, margin: float | None) -> Any:
    """Let the R*Tree find candidates where one side is a literal and the other a column."""
    for stored, other in ((0, 1), (1, 0)):
        node = nodes[other]
        if not isinstance(node, Geometry):
            continue
        bounds = _grown(shape(node.geojson).bounds, margin)
        filtered = where_boxes_overlap(values[stored].sql, bounds, sql)
        if filtered is not sql:
            return filtered
    return sql


def _grown(bounds: tuple[float, ...], metres: float | None) -> tuple[float, ...]:
    """``bounds`` grown by ``metres`` on every side (in degrees, generously)."""
    if not metres:
        return bounds
    min_x, min_y, max_x, max_y = bounds
    _, along_meridian = metres_per_degree(0)
    dy = metres / along_meridian * 1.01
    if max(abs(min_y), abs(max_y)) + dy >= 89:
        return (-180.0, max(min_y - dy, -90.0), 180.0, min(max_y + dy, 90.0))
    along_parallel, _ = metres_per_degree(max(abs(min_y), abs(max_y)) + dy)
    dx = metres / along_parallel * 1.01
    return (min_x - dx, min_y - dy, max_x + dx, max_y + dy)
