"""Any published GeoJSON file as a feature collection, refreshed on schedule.

The file's features become the collection's places, keyed by the feature's ``id`` or a
property named by ``key_property``; a feature the file no longer lists is marked gone.
Features without a usable key or geometry are counted as flagged and left out, as are files
in another coordinate system than WGS 84 (the ``crs`` member of old GeoJSON): they fail.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cityhub.connectors.base import Connector, Harvest, Options, Place, SourceError
from cityhub.connectors.context import RunContext
from cityhub.geometry import GeometryError, wgs84_geometry

_WGS84_NAMES = ("CRS84", "EPSG:4326", "EPSG::4326")


class GeoJsonOptions(Options):
    key_property: str | None = Field(
        None, description="Property identifying a feature across runs; default: its 'id'."
    )
    name_property: str = Field("name", description="Property holding a feature's name.")


class GeoJson(Connector):
    options_model = GeoJsonOptions
    options: GeoJsonOptions

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        document = await context.get_json(url)
        if document is None:
            return None
        if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
            raise SourceError(f"{url}: expected a GeoJSON FeatureCollection")
        _check_crs(url, document.get("crs"))
        harvest = Harvest(source=url)
        for feature in document.get("features") or []:
            place = self._place(feature)
            if place is None:
                harvest.flagged += 1
            else:
                harvest.places.append(place)
        return harvest

    def _place(self, feature: Any) -> Place | None:
        if not isinstance(feature, dict):
            return None
        properties = feature.get("properties") or {}
        key_property = self.options.key_property
        key = properties.get(key_property) if key_property else feature.get("id")
        if key is None or key == "":
            return None
        geometry = None
        if feature.get("geometry") is not None:
            try:
                geometry = wgs84_geometry(feature["geometry"])
            except GeometryError:
                return None
        name = properties.get(self.options.name_property) or str(key)
        return Place(key=str(key), name=str(name), geometry=geometry, properties=properties)


def _check_crs(url: str, crs: Any) -> None:
    if crs is None:
        return
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
    if not name.upper().endswith(_WGS84_NAMES):
        raise SourceError(
            f"{url}: coordinates are in {name or 'an unnamed system'}; GeoJSON must be in "
            "WGS 84 (RFC 7946) — ask the publisher for a WGS 84 file"
        )
