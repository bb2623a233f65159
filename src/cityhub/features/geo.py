"""Spatial conditions of the face: the bounding box, "within this feature" and "near this
point", each using the geometry index of the ``features`` table (GiST on PostGIS, the R*Tree
on SQLite) to find candidates before the exact test.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from shapely.geometry import shape
from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    select,
    table,
)
from sqlalchemy.types import UserDefinedType

from cityhub.features.sources import Source, geometry_literal
from cityhub.store.dialects import metres_per_degree
from cityhub.store.types import SRID

Box = tuple[float, float, float, float]

#: The R*Tree index of ``features.geom`` on SQLite.
RTREE = table(
    "features_geom_rtree", *(column(name) for name in ("id", "minx", "maxx", "miny", "maxy"))
)


class _Geography(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "geography"


def box_candidates(source: Source, box: Box, backend: str) -> ColumnElement[bool] | None:
    """Rows whose geometry's box overlaps ``box``, through the index; None without one."""
    if not source.indexed:
        return None
    min_x, min_y, max_x, max_y = box
    if backend == "postgresql":
        return source.c.geom.op("&&")(func.ST_MakeEnvelope(min_x, min_y, max_x, max_y, SRID))
    boxes = select(RTREE.c.id).where(
        RTREE.c.minx <= max_x,
        RTREE.c.maxx >= min_x,
        RTREE.c.miny <= max_y,
        RTREE.c.maxy >= min_y,
    )
    return source.c.id.in_(boxes)


def in_bbox(source: Source, box: Box, backend: str) -> list[ColumnElement[bool]]:
    """The features whose geometry intersects ``box`` (WGS 84)."""
    min_x, min_y, max_x, max_y = box
    envelope = _box_geojson(box)
    exact = func.ST_Intersects(source.c.geom, geometry_literal(envelope))
    candidates = box_candidates(source, box, backend)
    if backend == "sqlite":
        # A point is inside when its coordinates are: no geometry needs to be parsed.
        x, y = _point_coordinate(source, 0), _point_coordinate(source, 1)
        exact = case(
            (
                func.json_extract(source.c.geom, "$.type") == "Point",
                and_(x.between(min_x, max_x), y.between(min_y, max_y)),
            ),
            else_=exact == 1,
        )
    return [condition for condition in (candidates, exact) if condition is not None]


def within(source: Source, geometry: dict[str, Any], backend: str) -> list[ColumnElement[bool]]:
    """The features lying within ``geometry`` (a district, say)."""
    min_x, min_y, max_x, max_y = shape(geometry).bounds
    exact = func.ST_Within(source.c.geom, geometry_literal(orjson.dumps(geometry).decode()))
    if backend == "sqlite":
        exact = exact == 1
    candidates = box_candidates(source, (min_x, min_y, max_x, max_y), backend)
    return [condition for condition in (candidates, exact) if condition is not None]


def box_around(lon: float, lat: float, metres: float) -> Box:
    """A box in degrees holding every point within ``metres`` of (lon, lat), generously."""
    _, along_meridian = metres_per_degree(0)
    dy = metres / along_meridian * 1.01
    if abs(lat) + dy >= 89:
        return (-180.0, max(lat - dy, -90.0), 180.0, min(lat + dy, 90.0))
    along_parallel, _ = metres_per_degree(abs(lat) + dy)
    dx = metres / along_parallel * 1.01
    if dx >= 180:
        return (-180.0, lat - dy, 180.0, lat + dy)
    return (lon - dx, lat - dy, lon + dx, lat + dy)


class Distance:
    """Metres from a point to the features of a source, as SQL.

    On PostGIS the geography distance on the ellipsoid. On SQLite the metric of
    ``cityhub_distance_metres`` (a plane scaled to metres where the geometries are): for points
    it is computed in SQL from their coordinates, without parsing a geometry, so ordering
    hundreds of candidates costs microseconds.
    """

    def __init__(self, source: Source, lon: float, lat: float, backend: str) -> None:
        self.source, self.lon, self.lat, self.backend = source, lon, lat, backend
        self.point = geometry_literal(f'{{"type":"Point","coordinates":[{lon!r},{lat!r}]}}')

    def ordering(self) -> ColumnElement[float]:
        """What to order by: the distance on PostGIS, its square on SQLite."""
        if self.backend == "postgresql":
            return func.ST_Distance(
                cast(self.source.c.geom, _Geography()), cast(self.point, _Geography())
            )
        x, y = _point_coordinate(self.source, 0), _point_coordinate(self.source, 1)
        (kx, ky), (dkx, dky) = metres_per_degree(self.lat), _derivative(self.lat)
        half_dy = (y - self.lat) / 2
        dx = (x - self.lon) * (kx + dkx * half_dy)
        dy = (y - self.lat) * (ky + dky * half_dy)
        exact = func.cityhub_distance_metres(self.source.c.geom, self.point)
        return case(
            (func.json_extract(self.source.c.geom, "$.type") == "Point", dx * dx + dy * dy),
            else_=exact * exact,
        )

    def metres(self, ordering: float) -> float:
        return float(ordering) if self.backend == "postgresql" else math.sqrt(ordering)

    def within(self, metres: float) -> list[ColumnElement[bool]]:
        """Conditions: no farther than ``metres``; candidates through the index first."""
        box = box_around(self.lon, self.lat, metres)
        candidates = box_candidates(self.source, box, self.backend)
        if self.backend == "postgresql":
            exact = func.ST_DWithin(
                cast(self.source.c.geom, _Geography()), cast(self.point, _Geography()), metres
            )
        else:
            exact = self.ordering() <= literal(metres * metres, Float)
        return [condition for condition in (candidates, exact) if condition is not None]


def _derivative(lat: float) -> tuple[float, float]:
    """How metres per degree change per degree of latitude, there."""
    (x1, y1), (x2, y2) = metres_per_degree(lat - 0.005), metres_per_degree(lat + 0.005)
    return (x2 - x1) / 0.01, (y2 - y1) / 0.01


def _point_coordinate(source: Source, index: int) -> ColumnElement[float]:
    return func.json_extract(source.c.geom, f"$.coordinates[{index}]")


def _box_geojson(box: Box) -> str:
    min_x, min_y, max_x, max_y = box
    ring = [[min_x, min_y], [max_x, min_y], [max_x, max_y], [min_x, max_y], [min_x, min_y]]
    if min_x == max_x or min_y == max_y:  # a degenerate box: a line or a point
        return orjson.dumps({"type": "LineString", "coordinates": [ring[0], ring[2]]}).decode()
    return orjson.dumps({"type": "Polygon", "coordinates": [ring]}).decode()
