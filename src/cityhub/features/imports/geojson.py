"""GeoJSON: a FeatureCollection, a single Feature or geometry, or newline-delimited Features
(GeoJSON Lines / RFC 8142 text sequences, read line by line). A ``crs`` member (GeoJSON 2008)
names the reference system the coordinates are in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import shapely
from shapely.errors import ShapelyError

from cityhub.features.imports.crs import CoordinateError, to_wgs84
from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import ImportSourceError, Rejected, SourceRow
from cityhub.geometry import GEOMETRY_TYPES


def crs_member(document: dict[str, Any]) -> str | None:
    """The name in a ``{"crs": {"type": "name", "properties": {"name": …}}}`` member."""
    member = document.get("crs")
    if not isinstance(member, dict):
        return None
    name = (member.get("properties") or {}).get("name")
    return name if isinstance(name, str) else None


def _sequence_lines(data: bytes) -> list[bytes] | None:
    """The lines of newline-delimited GeoJSON, or None when ``data`` is one JSON document."""
    lines = [line.strip(b"\x1e \t\r") for line in data.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2 or not lines[0].startswith(b"{") or not lines[1].startswith(b"{"):
        return None
    try:
        orjson.loads(lines[0])
    except orjson.JSONDecodeError:
        return None
    return lines


class GeoJsonReader:
    """Features of a GeoJSON document, numbered in order (``feature N``) or by line."""

    def __init__(self, data: bytes, options: ImportOptions) -> None:
        data = data.removeprefix(b"\xef\xbb\xbf")
        self._options = options
        self._lines = _sequence_lines(data)
        self.crs = options.crs
        if self._lines is not None:
            self.unit, self.total, self._features = "line", len(self._lines), []
            self.description = "GeoJSON, one Feature per line"
            return
        self.unit = "feature"
        self._features = self._document_features(data)
        self.total = len(self._features)
        self.description = f"GeoJSON, {self.total} features" + (
            f", coordinates in {self.crs}" if self.crs else ""
        )

    def _document_features(self, data: bytes) -> list[Any]:
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ImportSourceError(f"not JSON: {exc}") from None
        if not isinstance(document, dict):
            raise ImportSourceError("not GeoJSON: expected an object with a 'type'")
        self.crs = self._options.crs or crs_member(document)
        kind = document.get("type")
        if kind == "FeatureCollection":
            features = document.get("features")
            if not isinstance(features, list):
                raise ImportSourceError("a FeatureCollection without a 'features' list")
            return features
        if kind == "Feature":
            return [document]
        if kind in GEOMETRY_TYPES:
            return [{"type": "Feature", "properties": {}, "geometry": document}]
        raise ImportSourceError(
            f"not GeoJSON: type {kind!r}; expected FeatureCollection, Feature or a geometry"
        )

    def __iter__(self) -> Iterator[SourceRow | Rejected]:
        if self._lines is not None:
            for number, line in enumerate(self._lines, start=1):
                yield self._from_line(number, line)
            return
        for number, feature in enumerate(self._features, start=1):
            yield self._feature(number, feature)

    def _from_line(self, number: int, line: bytes) -> SourceRow | Rejected:
        try:
            return self._feature(number, orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            return Rejected(number, f"not JSON: {exc}", self.unit)

    def _feature(self, number: int, feature: Any) -> SourceRow | Rejected:
        try:
            properties, geometry = _parts(feature)
            if geometry is not None:
                geometry = to_wgs84(geometry, self.crs)
        except (CoordinateError, ValueError) as exc:
            return Rejected(number, str(exc), self.unit)
        return SourceRow(number, properties, geometry, feature.get("id"))


def _parts(feature: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError('not a GeoJSON Feature (expected "type": "Feature")')
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise ValueError("'properties' must be an object or null")
    geometry = feature.get("geometry")
    if geometry is not None:
        _check_geometry(geometry)
    return properties, geometry


def _check_geometry(geometry: Any) -> None:
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        raise ValueError("'geometry' is not a GeoJSON geometry (Point, Polygon, …)")
    try:
        shape = shapely.from_geojson(orjson.dumps(geometry))
    except (ShapelyError, ValueError) as exc:
        raise ValueError(f"invalid {geometry['type']} geometry: {exc}") from None
    if shape.is_empty:
        raise ValueError(f"empty {geometry['type']} geometry")
