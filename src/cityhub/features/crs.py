"""Coordinate reference systems of OGC API – Features Part 2: stored in WGS 84 (CRS84),
served and queried in CRS84, EPSG:4326 (latitude first!) and EPSG:25832 (ETRS89 / UTM 32N,
the system of German surveying offices).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pyproj import Transformer

from cityhub.errors import BadRequest

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_25832 = "http://www.opengis.net/def/crs/EPSG/0/25832"
#: The CRSs offered, the storage CRS first.
SUPPORTED = (CRS84, EPSG_4326, EPSG_25832)

_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "epsg:4326": EPSG_4326,
    "urn:ogc:def:crs:epsg::4326": EPSG_4326,
    "epsg:25832": EPSG_25832,
    "urn:ogc:def:crs:epsg::25832": EPSG_25832,
    **{uri.lower(): uri for uri in SUPPORTED},
}
_PYPROJ_NAMES = {CRS84: "OGC:CRS84", EPSG_4326: "EPSG:4326", EPSG_25832: "EPSG:25832"}

Coordinates = Callable[[float, float], tuple[float, float]]


def parse_crs(value: str, parameter: str) -> str:
    """The URI of a supported CRS named by ``value`` (a URI, ``EPSG:n`` or ``[EPSG:n]``)."""
    name = value.strip().removeprefix("[").removesuffix("]").lower()
    found = _ALIASES.get(name)
    if found is None:
        raise BadRequest(
            f"unsupported CRS {value!r} in '{parameter}'; supported: {', '.join(SUPPORTED)}"
        )
    return found


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(_PYPROJ_NAMES[source], _PYPROJ_NAMES[target])


def to_storage(crs: str) -> Coordinates:
    """Coordinates in ``crs``, in that CRS's axis order, to (lon, lat) in WGS 84."""
    return _function(crs, CRS84)


def from_storage(crs: str) -> Coordinates:
    """(lon, lat) in WGS 84 to coordinates in ``crs``, in that CRS's axis order."""
    return _function(CRS84, crs)


def _function(source: str, target: str) -> Coordinates:
    if source == target:
        return lambda x, y: (x, y)
    if {source, target} == {CRS84, EPSG_4326}:
        return lambda x, y: (y, x)
    transform = _transformer(source, target).transform
    return lambda x, y: tuple(transform(x, y))  # type: ignore[return-value]


def transform_geometry(geometry: dict[str, Any] | None, convert: Coordinates) -> Any:
    """A GeoJSON geometry with every position converted (a third ordinate kept as it is)."""
    if geometry is None:
        return None
    if geometry.get("type") == "GeometryCollection":
        parts = [transform_geometry(part, convert) for part in geometry.get("geometries", [])]
        return {"type": "GeometryCollection", "geometries": parts}
    return {"type": geometry["type"], "coordinates": _positions(geometry["coordinates"], convert)}


def _positions(value: Any, convert: Coordinates) -> Any:
    if value and isinstance(value[0], int | float):
        x, y = convert(value[0], value[1])
        return [round(x, 9), round(y, 9), *value[2:]]
    return [_positions(part, convert) for part in value]


def bbox_to_storage(bbox: tuple[float, ...], crs: str) -> tuple[float, float, float, float]:
    """A bounding box given in ``crs`` as (min lon, min lat, max lon, max lat) in WGS 84."""
    min_x, min_y, max_x, max_y = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else bbox
    if crs == CRS84:
        return min_x, min_y, max_x, max_y
    if crs == EPSG_4326:  # latitude first
        return min_y, min_x, max_y, max_x
    box = _transformer(crs, CRS84).transform_bounds(min_x, min_y, max_x, max_y, densify_pts=21)
    return box[0], box[1], box[2], box[3]


def bbox_from_storage(bbox: tuple[float, float, float, float], crs: str) -> list[float]:
    """A WGS 84 (lon/lat) box in ``crs``'s axis order."""
    if crs == CRS84:
        return list(bbox)
    if crs == EPSG_4326:
        return [bbox[1], bbox[0], bbox[3], bbox[2]]
    return list(_transformer(CRS84, crs).transform_bounds(*bbox, densify_pts=21))
