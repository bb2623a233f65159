"""An items request as SQL conditions on a collection's source: bbox, datetime, property
parameters, the CQL2 ``filter`` and ``within``. Names resolve to queryables: ``id``,
``geometry``, ``datetime``, the collection's properties and its live values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
from shapely.geometry import shape
from sqlalchemy import ColumnElement, and_, func

from cityhub.errors import BadRequest
from cityhub.features import crs, geo, live
from cityhub.features.cql2 import (
    Node,
    Queryable,
    UnknownQueryable,
    parse_json,
    parse_text,
    resolver,
    to_sql,
)
from cityhub.features.cql2.nodes import Geometry, Literal, Op, Property
from cityhub.features.cql2.spatial import UNITS
from cityhub.features.params import ItemsQuery, TimeRange
from cityhub.features.sources import Source
from cityhub.features.summary import Summary
from cityhub.store.access import Hidden

CORE_QUERYABLES = ("id", "geometry", "datetime")


def queryables(source: Source, summary: Summary, hidden: Hidden) -> dict[str, Queryable]:
    """Every name a filter may use on ``source``, as SQL."""
    found: dict[str, Queryable] = {
        "id": Queryable.column(source.c.id, "number"),
        "geometry": Queryable.geometry(source.c.geom),
        "datetime": Queryable.interval(source.c.time_start, source.c.time_end),
    }
    for name in summary.properties:
        if name in source.extra:
            found[name] = Queryable.column(source.c[name], "string")
        elif name not in found:
            found[name] = Queryable.member(source.c.properties, name)
    for name, kind in summary.live.items():
        found[name] = live.live_queryable(source.c.thing_id, name, kind, hidden)
    return found


def conditions(
    query: ItemsQuery,
    source: Source,
    resolve: Callable[[str], Queryable],
    summary: Summary,
    backend: str,
) -> list[ColumnElement[bool]]:
    """The conditions of ``query`` beyond the source's own (``within`` is added apart)."""
    found: list[ColumnElement[bool]] = list(source.base)
    if query.bbox is not None:
        found += geo.in_bbox(source, query.bbox, backend)
    if query.time is not None:
        found.append(time_condition(source, query.time))
    for name, value in query.properties.items():
        node = Op("=", (Property(name, f"parameter '{name}'"), _typed(value, summary, name)))
        found.append(to_sql(node, resolve, backend))
    if query.filter is not None:
        node = parse_filter(query)
        found.append(to_sql(node, resolve, backend))
        if backend == "sqlite":
            found += _index_hints(node, source)
    return found


_BOXED = frozenset(
    {"s_intersects", "s_within", "s_contains", "s_equals", "s_touches", "s_overlaps", "s_crosses"}
)


def _index_hints(node: Node, source: Source) -> list[ColumnElement[bool]]:
    """Box conditions implied by the filter's top-level spatial predicates on a literal: on
    SQLite they let the R*Tree drive the query, which the predicates alone cannot."""
    if isinstance(node, Op) and node.op == "and":
        return [hint for arg in node.args for hint in _index_hints(arg, source)]
    if not isinstance(node, Op) or node.op not in _BOXED | {"s_dwithin"}:
        return []
    first, second = node.args[0], node.args[1]
    literal = second if isinstance(first, Property) else first
    column = first if isinstance(first, Property) else second
    if not (isinstance(column, Property) and column.name == "geometry"):
        return []
    if not isinstance(literal, Geometry):
        return []
    min_x, min_y, max_x, max_y = shape(literal.geojson).bounds
    if node.op == "s_dwithin":
        metres = _metres(node.args[2], node.args[3])
        if metres is None:
            return []
        min_x, min_y, _, _ = geo.box_around(min_x, min_y, metres)
        _, _, max_x, max_y = geo.box_around(max_x, max_y, metres)
    hint = geo.box_candidates(source, (min_x, min_y, max_x, max_y), "sqlite")
    return [] if hint is None else [hint]


def _metres(distance: Node, unit: Node) -> float | None:
    if not (isinstance(distance, Literal) and isinstance(unit, Literal)):
        return None
    factor = UNITS.get(str(unit.value).lower())
    value = distance.value
    if factor is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) * factor


def time_condition(source: Source, time: TimeRange) -> ColumnElement[bool]:
    """Features whose instant or interval meets ``time``; those without a time do not."""
    start, end = source.c.time_start, func.coalesce(source.c.time_end, source.c.time_start)
    parts = [start.is_not(None)]
    if time.end is not None:
        parts.append(start <= time.end)
    if time.start is not None:
        parts.append(end >= time.start)
    return and_(*parts)


def parse_filter(query: ItemsQuery) -> Node:
    """The ``filter`` parameter as a syntax tree, its geometries in WGS 84."""
    assert query.filter is not None
    if query.filter_lang == "cql2-json":
        try:
            document = orjson.loads(query.filter)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"'filter' is not valid JSON (filter-lang=cql2-json): {exc}") from None
        node = parse_json(document)
    else:
        node = parse_text(query.filter)
    if query.filter_crs != crs.CRS84:
        node = _reprojected(node, crs.to_storage(query.filter_crs))
    return node


def _reprojected(node: Any, convert: crs.Coordinates) -> Any:
    if isinstance(node, Geometry):
        return dataclasses.replace(node, geojson=crs.transform_geometry(node.geojson, convert))
    if isinstance(node, tuple):
        return tuple(_reprojected(part, convert) for part in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {
            f.name: _reprojected(getattr(node, f.name), convert)
            for f in dataclasses.fields(node)
            if isinstance(getattr(node, f.name), tuple | Geometry | Op)
        }
        return dataclasses.replace(node, **changes) if changes else node
    return node


def _typed(value: str, summary: Summary, name: str) -> Literal:
    """A property parameter's value as the type the property holds."""
    kind = summary.live.get(name) or summary.properties.get(name)
    if kind in ("number", "integer"):
        try:
            number = float(value)
        except ValueError:
            raise BadRequest(f"'{name}' holds numbers; {value!r} is none") from None
        return Literal(int(number) if number.is_integer() else number)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise BadRequest(f"'{name}' holds true or false; got {value!r}")
        return Literal(value == "true")
    return Literal(value)


def refreshing_resolver(
    known: dict[str, Queryable], refresh: Callable[[], dict[str, Queryable]]
) -> Callable[[str], Queryable]:
    """A resolver that, before calling a name unknown, computes the queryables afresh (a
    property added since the collection was last summarised)."""
    return _Refreshing(known, refresh)


class _Refreshing:
    def __init__(
        self, known: dict[str, Queryable], refresh: Callable[[], dict[str, Queryable]]
    ) -> None:
        self.resolve, self.refresh, self.refreshed = resolver(known), refresh, False

    def __call__(self, name: str) -> Queryable:
        try:
            return self.resolve(name)
        except UnknownQueryable:
            if self.refreshed:
                raise
            self.resolve, self.refreshed = resolver(self.refresh()), True
            return self.resolve(name)
