"""Literal values both encodings share: checked here once, so the trees they build are equal.

Each check raises ``ValueError`` with a message for the client; the parsers add where.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import shapely
import shapely.wkt
from shapely.errors import ShapelyError
from shapely.geometry import box, mapping, shape

from cityhub.errors import BadRequest
from cityhub.features.cql2.nodes import Node, Op
from cityhub.timeutil import parse_date, parse_instant

#: GeoJSON geometry types and how deep their coordinates nest (a position is depth 1).
GEOJSON_DEPTH = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}
MAX_DEPTH = 64


def number(value: int | float) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    return value


def string(value: str) -> str:
    if "\x00" in value:
        raise ValueError("strings cannot hold the NUL character")
    return value


def timestamp(text: str) -> datetime:
    try:
        return parse_instant(text)
    except BadRequest as exc:
        raise ValueError(exc.message) from None


def day(text: str) -> date:
    try:
        return parse_date(text)
    except BadRequest as exc:
        raise ValueError(exc.message) from None


def bbox(values: list[Any]) -> dict[str, Any]:
    """A bounding box of 4 (2D) or 6 (3D, heights ignored) numbers as a GeoJSON polygon."""
    if len(values) not in (4, 6) or not all(_is_number(v) for v in values):
        raise ValueError("a bounding box is 4 or 6 numbers")
    half = len(values) // 2
    min_x, min_y, max_x, max_y = values[0], values[1], values[half], values[half + 1]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("bounding box numbers must be finite")
    if min_x > max_x or min_y > max_y:
        raise ValueError("a bounding box is minx, miny, maxx, maxy with min <= max")
    return _checked(box(min_x, min_y, max_x, max_y), "bounding box")


def wkt(text: str) -> dict[str, Any]:
    try:
        geometry = shapely.wkt.loads(text)
    except (ShapelyError, ValueError):
        raise ValueError(f"invalid WKT geometry {text!r}") from None
    return _checked(geometry, "WKT geometry")


def geojson(document: dict[str, Any]) -> dict[str, Any]:
    _check_geojson(document, 0)
    try:
        geometry = shape(document)
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise ValueError("invalid GeoJSON geometry") from None
    return _checked(geometry, "GeoJSON geometry")


def _check_geojson(document: dict[str, Any], depth: int) -> None:
    kind = document.get("type")
    if kind == "GeometryCollection" and depth < MAX_DEPTH:
        members = document.get("geometries")
        if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
            raise ValueError("a GeometryCollection needs a list of geometries")
        for member in members:
            _check_geojson(member, depth + 1)
        return
    if kind not in GEOJSON_DEPTH:
        known = ", ".join([*GEOJSON_DEPTH, "GeometryCollection"])
        raise ValueError(f"unknown GeoJSON geometry type {kind!r}; known: {known}")
    _check_coordinates(document.get("coordinates"), GEOJSON_DEPTH[kind])


def _check_coordinates(value: Any, depth: int) -> None:
    if depth == 1:
        if not (isinstance(value, list) and len(value) in (2, 3) and all(map(_is_number, value))):
            raise ValueError("a GeoJSON position is a list of 2 or 3 numbers")
        if not all(math.isfinite(v) for v in value):
            raise ValueError("GeoJSON coordinates must be finite")
        return
    if not isinstance(value, list):
        raise ValueError("GeoJSON coordinates nest lists as the geometry type says")
    for item in value:
        _check_coordinates(item, depth - 1)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked(geometry: shapely.Geometry, what: str) -> dict[str, Any]:
    if geometry.is_empty:
        raise ValueError(f"empty {what}")
    if not geometry.is_valid:
        raise ValueError(f"invalid {what} ({shapely.is_valid_reason(geometry)})")
    return _listify(mapping(geometry))


def _listify(value: Any) -> Any:
    """shapely's GeoJSON uses tuples; equal trees from both encodings want lists."""
    if isinstance(value, dict):
        return {key: _listify(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_listify(item) for item in value]
    return float(value) if _is_number(value) else value


def logical(op: str, args: list[Node], at: str) -> Op:
    """``and``/``or`` over ``args``, flattening nested ones of the same operator."""
    flat: list[Node] = []
    for arg in args:
        if isinstance(arg, Op) and arg.op == op:
            flat.extend(arg.args)
        else:
            flat.append(arg)
    return Op(op, tuple(flat), at)
