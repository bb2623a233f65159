"""Coordinate reference systems: geometries transformed to WGS 84 (lon, lat) and checked.

German surveying offices publish in ETRS89 / UTM 32N (EPSG:25832) or 33N (EPSG:25833), older
data in Gauß-Krüger (EPSG:31466…31469). A coordinate that cannot be where the named system
says it is gets a message naming the likely cause: projected metres read as degrees, swapped
axes, or the wrong system.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

WGS84_NAMES = frozenset(
    {
        "4326",
        "epsg:4326",
        "crs84",
        "ogc:crs84",
        "wgs84",
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:epsg::4326",
        "http://www.opengis.net/def/crs/ogc/1.3/crs84",
        "http://www.opengis.net/def/crs/epsg/0/4326",
    }
)
# Degrees of slack around a system's published area of use: UTM 32N is used for the whole
# of Germany (up to 15° E), Gauß-Krüger zones overlap their neighbours.
AREA_MARGIN = 3.0


class CoordinateError(ValueError):
    """A coordinate that cannot be right; the message says why and what to try."""


def is_wgs84(name: str | None) -> bool:
    return name is None or name.strip().casefold() in WGS84_NAMES


def check_crs(name: str) -> str:
    """``name`` if pyproj knows it (EPSG:25832, 25832, an OGC URN or URI), else ValueError."""
    _projection(name)
    return name


Position = Sequence[float]
Transform = Callable[[list[float], list[float]], tuple[list[float], list[float]]]


def to_wgs84(geometry: dict[str, Any], crs: str | None) -> dict[str, Any]:
    """``geometry`` in WGS 84, each position checked; CoordinateError if one is implausible."""
    if is_wgs84(crs):
        if geometry["type"] == "Point":
            _check_degrees(*geometry["coordinates"][:2])
        else:
            _walk(geometry, _check_degrees)
        return geometry
    transform, bounds, label = _projection(crs or "")

    def convert(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
        lons, lats = transform(xs, ys)
        for x, y, lon, lat in zip(xs, ys, lons, lats, strict=True):
            _check_in_area(x, y, lon, lat, bounds, label)
        return list(lons), list(lats)

    return {**geometry, **_converted(geometry, convert)}


def _converted(geometry: dict[str, Any], convert: Transform) -> dict[str, Any]:
    if geometry.get("type") == "GeometryCollection":
        return {"geometries": [{**g, **_converted(g, convert)} for g in geometry["geometries"]]}
    return {"coordinates": _convert_nested(geometry["coordinates"], convert)}


def _convert_nested(coordinates: Any, convert: Transform) -> Any:
    if coordinates and isinstance(coordinates[0], int | float):  # one position
        return _convert_positions([coordinates], convert)[0]
    if coordinates and isinstance(coordinates[0][0], int | float):  # a list of positions
        return _convert_positions(coordinates, convert)
    return [_convert_nested(part, convert) for part in coordinates]


def _convert_positions(positions: list[Any], convert: Transform) -> list[list[float]]:
    lons, lats = convert([p[0] for p in positions], [p[1] for p in positions])
    return [[lon, lat, *p[2:]] for lon, lat, p in zip(lons, lats, positions, strict=True)]


def _walk(geometry: dict[str, Any], check: Callable[[float, float], None]) -> None:
    if geometry.get("type") == "GeometryCollection":
        for part in geometry["geometries"]:
            _walk(part, check)
        return
    stack = [geometry["coordinates"]]
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], int | float):
            check(item[0], item[1])
        else:
            stack.extend(item)


def _check_degrees(lon: float, lat: float) -> None:
    if -180 <= lon <= 180 and -90 <= lat <= 90:
        return
    raise CoordinateError(f"({_n(lon)}, {_n(lat)}) is not a longitude/latitude; {_guess(lon, lat)}")


def _guess(x: float, y: float) -> str:
    """What a pair of numbers out of the range of degrees most likely is."""
    if abs(x) <= 90 < abs(y) <= 180:
        return "latitude and longitude look swapped (give --lon and --lat)"
    for a, b, swapped in ((x, y, ""), (y, x, " with easting and northing swapped")):
        if 5.0e6 <= b <= 6.2e6 and 1.0e5 <= a <= 1.0e6:
            return (
                f"it looks like ETRS89 / UTM metres{swapped}: give --crs EPSG:25832 "
                "(EPSG:25833 east of 12° E)"
            )
        if 5.0e6 <= b <= 6.2e6 and 2.0e6 <= a < 6.0e6:
            zone = int(a // 1_000_000)
            return f"it looks like Gauß-Krüger zone {zone}{swapped}: give --crs EPSG:{31464 + zone}"
        if 5.0e6 <= b <= 6.2e6 and 3.2e7 <= a < 3.4e7:
            return f"it looks like UTM with a zone prefix{swapped}: give --crs EPSG:4647"
    return "give the coordinate reference system with --crs (e.g. EPSG:25832)"


def _check_in_area(
    x: float, y: float, lon: float, lat: float, bounds: tuple[float, ...], label: str
) -> None:
    west, south, east, north = bounds
    if (
        math.isfinite(lon)
        and math.isfinite(lat)
        and west - AREA_MARGIN <= lon <= east + AREA_MARGIN
        and south - AREA_MARGIN <= lat <= north + AREA_MARGIN
    ):
        return
    where = f"({_n(lon)}, {_n(lat)})" if math.isfinite(lon) and math.isfinite(lat) else "nowhere"
    hint = _projected_hint(x, y, label)
    raise CoordinateError(
        f"({_n(x)}, {_n(y)}) in {label} lies at {where}, outside the area {label} is used for; "
        f"{hint}"
    )


def _projected_hint(x: float, y: float, label: str) -> str:
    if -180 <= x <= 180 and -90 <= y <= 90:
        return "these look like degrees; leave out --crs"
    guess = _guess(x, y)
    if label in guess:
        if "swapped" in guess:
            return "easting and northing look swapped"
        return "the values do not fit this system"
    return guess.replace("it looks like", "they look like")


@lru_cache(maxsize=16)
def _projection(name: str) -> tuple[Transform, tuple[float, ...], str]:
    try:
        crs = CRS.from_user_input(_normal_name(name))
    except CRSError:
        raise ValueError(
            f"unknown coordinate reference system '{name}'; give it as EPSG:<code>, "
            "e.g. EPSG:25832 (ETRS89 / UTM 32N) or EPSG:31466 (Gauß-Krüger zone 2)"
        ) from None
    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    area = crs.area_of_use
    bounds = (area.west, area.south, area.east, area.north) if area else (-180, -90, 180, 90)
    code = crs.to_epsg()
    label = f"EPSG:{code}" if code else crs.name
    return transformer.transform, bounds, label


def _normal_name(name: str) -> str:
    text = name.strip()
    return f"EPSG:{text}" if text.isdigit() else text


def _n(value: float) -> str:
    return f"{value:.6g}" if abs(value) < 1000 else f"{value:.0f}"


def axis_warning(bounds: tuple[float, float, float, float] | None) -> str | None:
    """A warning when every imported point lies where swapped axes would put German data."""
    if bounds is None:
        return None
    west, south, east, north = bounds
    in_germany = _within((west, east), (5.5, 15.5)) and _within((south, north), (47, 55.5))
    swapped_in_germany = _within((south, north), (5.5, 15.5)) and _within((west, east), (47, 55.5))
    if swapped_in_germany and not in_germany:
        return (
            f"every point lies between longitude {west:g}…{east:g} and latitude {south:g}…"
            f"{north:g}: latitude and longitude look swapped (give --lon and --lat)"
        )
    return None


def _within(span: tuple[float, float], limits: tuple[float, float]) -> bool:
    return limits[0] <= span[0] and span[1] <= limits[1]


def swapped_points(points: list[tuple[float, float]]) -> list[int]:
    """Indexes of the points that lie far from the others (more than 2° from their median)
    but among them (within 1°) with longitude and latitude exchanged: rows that swap them."""
    if len(points) < 3:
        return []
    lon = statistics.median(p[0] for p in points)
    lat = statistics.median(p[1] for p in points)
    return [
        index
        for index, (x, y) in enumerate(points)
        if abs(x - lon) + abs(y - lat) > 2 and abs(y - lon) + abs(x - lat) < 1
    ]
