"""The choices an import can be given; every one has a detected default."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read the source. ``None`` means: detect it."""

    format: str | None = None  # "geojson", "csv" or "xlsx"
    crs: str | None = None  # e.g. "EPSG:25832"; default WGS 84 (or a GeoJSON ``crs`` member)
    lon: str | None = None  # column holding longitude / easting
    lat: str | None = None  # column holding latitude / northing
    wkt: str | None = None  # column holding WKT geometry
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None  # XLSX worksheet (default: the first)
