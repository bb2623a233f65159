"""GeoJSON geometries as every part of the hub accepts them: valid, non-empty, WGS 84."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from shapely import force_2d
from shapely.errors import GEOSException
from shapely.geometry import mapping, shape

GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


class GeometryError(ValueError):
    """A value that is not a usable GeoJSON geometry; the message says why."""


def wgs84_geometry(value: Any) -> dict[str, Any]:
    """``value`` as a 2D GeoJSON geometry in WGS 84, or a GeometryError that says what is wrong.

    The stored geometry is 2D; an altitude stays wherever the caller keeps the original.
    """
    point = _plain_point(value)
    if point is not None:
        return point
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        raise GeometryError(
            'must be a GeoJSON geometry, e.g. {"type": "Point", "coordinates": [7.08, 51.17]}'
        )
    try:
        parsed = shape(value)
    except (GEOSException, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise GeometryError(f"is not a valid GeoJSON {value['type']}: {exc}") from None
    if parsed.is_empty:
        raise GeometryError("is an empty geometry")
    min_x, min_y, max_x, max_y = parsed.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise GeometryError(
            "has coordinates outside WGS 84 (longitude -180..180, latitude -90..90); "
            "GeoJSON puts longitude first"
        )
    return mapping(force_2d(parsed))


def _plain_point(value: Any) -> dict[str, Any] | None:
    """A 2D Point in range, decided without shapely (most geometries written are such
    points); None for anything else, which takes the full check."""
    if not isinstance(value, dict) or value.get("type") != "Point" or len(value) != 2:
        return None
    position = value.get("coordinates")
    if not isinstance(position, list | tuple) or len(position) != 2:
        return None
    x, y = position
    if type(x) not in (int, float) or type(y) not in (int, float):
        return None
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        return None
    return {"type": "Point", "coordinates": (float(x), float(y))}


def geojson_text(geometry: dict[str, Any]) -> str:
    """The compact GeoJSON text the geometry columns are written from."""
    return orjson.dumps(geometry).decode()


#: West, south, east, north in WGS 84 degrees.
Box = tuple[float, float, float, float]


def enclosing_box(boxes: Iterable[Box]) -> Box | None:
    """The smallest box around ``boxes``; None without any."""
    found = list(boxes)
    if not found:
        return None
    return (
        min(b[0] for b in found),
        min(b[1] for b in found),
        max(b[2] for b in found),
        max(b[3] for b in found),
    )
