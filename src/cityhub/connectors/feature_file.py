"""Any published GeoJSON, CSV or XLSX file as a feature collection, refreshed on schedule.

The file is read by the import readers (``cityhub.features.imports``), as ``cityhub import``
reads it: format, encoding, delimiter, decimal comma, header and coordinate columns are
detected, and ``crs`` converts projected coordinates. Each row or feature is a place keyed by
``key_property`` (or a GeoJSON feature's ``id``); a file without such a key identifies each
row by its content, so an edited row becomes a new feature and its former version is marked
gone. Rows the reader rejects are counted as flagged and left out.
"""

from __future__ import annotations

import hashlib
from typing import Any

import anyio
import orjson
from pydantic import Field

from cityhub.connectors.base import Connector, Harvest, Options, Place, SourceError
from cityhub.connectors.context import RunContext
from cityhub.features.imports import ImportOptions, ImportSourceError, SourceRow, open_reader
from cityhub.features.write import GeometryError, check_geometry


class FeatureFileOptions(Options):
    format: str | None = Field(None, description="'geojson', 'csv' or 'xlsx'; default: detected.")
    key_property: str | None = Field(
        None, description="Column or property identifying a row across runs (default: 'id')."
    )
    name_property: str | None = Field(None, description="Column holding a row's name.")
    crs: str | None = Field(None, description="Coordinate system of the file, e.g. 'EPSG:25832'.")
    lon: str | None = Field(None, description="Column of the longitude (or easting).")
    lat: str | None = Field(None, description="Column of the latitude (or northing).")
    wkt: str | None = Field(None, description="Column of a WKT geometry.")
    delimiter: str | None = Field(None, description="CSV delimiter; default: detected.")
    encoding: str | None = Field(None, description="Text encoding; default: detected.")
    sheet: str | None = Field(None, description="XLSX worksheet; default: the first.")

    def reading(self) -> ImportOptions:
        return ImportOptions(
            format=self.format,
            crs=self.crs,
            lon=self.lon,
            lat=self.lat,
            wkt=self.wkt,
            delimiter=self.delimiter,
            encoding=self.encoding,
            sheet=self.sheet,
        )


class FeatureFile(Connector):
    options_model = FeatureFileOptions
    options: FeatureFileOptions

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        response = await context.get(url)
        if response is None:
            return None
        media_type = response.headers.get("Content-Type")
        if media_type and "html" in media_type:
            raise SourceError(f"{url} answered an HTML page, not a data file")
        context.progress("reading the file")
        return await anyio.to_thread.run_sync(self._read, url, response.content, media_type)

    def _read(self, url: str, content: bytes, media_type: str | None) -> Harvest:
        name = url.split("?", 1)[0]
        try:
            reader = open_reader(content, self.options.reading(), name, media_type)
            rows = list(reader)
        except ImportSourceError as exc:
            raise SourceError(f"{url}: {exc}") from None
        harvest = Harvest(source=url)
        for row in rows:
            place = self._place(row) if isinstance(row, SourceRow) else None
            if place is None:
                harvest.flagged += 1
            else:
                harvest.places.append(place)
        if rows and not harvest.places:
            raise SourceError(f"{url}: none of its {len(rows)} records could be read")
        if not rows:
            raise SourceError(f"{url}: the file holds no records")
        return harvest

    def _place(self, row: SourceRow) -> Place | None:
        try:
            geometry = None if row.geometry is None else check_geometry(row.geometry)
        except GeometryError:
            return None
        key = self._key(row)
        if key is None:
            return None
        name_field = self.options.name_property or "name"
        name = row.properties.get(name_field)
        return Place(
            key=key,
            name=str(name) if name not in (None, "") else key,
            geometry=geometry,
            properties=dict(row.properties),
        )

    def _key(self, row: SourceRow) -> str | None:
        field = self.options.key_property or "id"
        value = row.properties.get(field)
        if value in (None, "") and field == "id":
            value = row.source_id
        if value not in (None, ""):
            return str(value)
        if self.options.key_property is not None:
            return None  # the configured key is missing: the row cannot be followed
        return _content_key(row.properties, row.geometry)


def _content_key(properties: dict[str, Any], geometry: dict[str, Any] | None) -> str:
    """A key from what the row says, for files without an id."""
    text = orjson.dumps([properties, geometry], option=orjson.OPT_SORT_KEYS, default=str)
    return "row-" + hashlib.sha1(text, usedforsecurity=False).hexdigest()[:16]
