"""Rows of cells (from CSV or a worksheet) to features: the header found below any title
lines, coordinate columns recognised by their German or English names, values typed."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Any

import orjson
import shapely
import shapely.wkt
from shapely.errors import ShapelyError

from cityhub.features.imports.crs import CoordinateError, to_wgs84
from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import ImportSourceError, Rejected, SourceRow
from cityhub.features.imports.values import coordinate, parse_number, typed

SAMPLE_ROWS = 50

LON_NAMES = (
    "lon", "lng", "long", "longitude", "laenge", "laengengrad", "geolaenge", "x", "xcoord",
    "xkoordinate", "koordinatex", "rechtswert", "rw", "easting", "ostwert", "east", "wgs84lon",
    "lonwgs84", "geox", "pointx",
)  # fmt: skip
LAT_NAMES = (
    "lat", "latitude", "breite", "breitengrad", "geobreite", "y", "ycoord", "ykoordinate",
    "koordinatey", "hochwert", "hw", "northing", "nordwert", "north", "wgs84lat", "latwgs84",
    "geoy", "pointy",
)  # fmt: skip
WKT_NAMES = (
    "wkt", "geometry", "geometrie", "geom", "thegeom", "shape", "wktgeometry", "geometriewkt",
)  # fmt: skip

_EWKT = re.compile(r"\s*SRID=(\d+);(.*)", re.IGNORECASE | re.DOTALL)

Cells = list[Any]


def fold(name: str) -> str:
    """A column name compared loosely: lower case, umlauts spelled out, only letters and digits."""
    text = name.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in text if c.isalnum() and c.isascii())


def _width(cells: Cells) -> int:
    """Cells up to the last one that is not empty."""
    last = cells[-1] if cells else None
    if isinstance(last, str) and last and not last.isspace():  # most rows: no search
        return len(cells)
    for index in range(len(cells) - 1, -1, -1):
        if not _empty(cells[index]):
            return index + 1
    return 0


def _empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def find_header(sample: list[tuple[int, Cells]]) -> int:
    """The index in ``sample`` of the header row: the first row as wide as most rows are,
    all its cells text that is not a number. Title and date lines above it are skipped."""
    widths = [_width(cells) for _, cells in sample]
    wide = [w for w in widths if w >= 2]
    if not wide:
        return next((i for i, w in enumerate(widths) if w), 0)
    common = max(Counter(wide).items(), key=lambda item: (item[1], item[0]))[0]
    for index, (_, cells) in enumerate(sample):
        if widths[index] >= common and _names_only(cells[: widths[index]]):
            return index
    return widths.index(common)


def _names_only(cells: Cells) -> bool:
    texts = [c for c in cells if not _empty(c)]
    return len(texts) >= len(cells) - 1 and all(
        isinstance(c, str)
        and parse_number(c.strip(), True) is None
        and parse_number(c.strip(), False) is None
        for c in texts
    )


def column_names(cells: Cells) -> list[str]:
    """Header cells as property names: blanks numbered, repeats made unique."""
    names: list[str] = []
    for index, cell in enumerate(cells[: _width(cells)]):
        name = str(cell).strip() if not _empty(cell) else f"column_{index + 1}"
        base, count = name, 2
        while name in names:
            name, count = f"{base}_{count}", count + 1
        names.append(name)
    return names


class CoordinateColumns:
    """Where a table keeps its geometry: lon/lat columns, a WKT column, or nowhere."""

    def __init__(self, names: list[str], options: ImportOptions) -> None:
        self.names = names
        self.wkt = self._named(options.wkt, "--wkt")
        self.lon = self._named(options.lon, "--lon")
        self.lat = self._named(options.lat, "--lat")
        if (self.lon is None) != (self.lat is None) and (options.lon or options.lat):
            raise ImportSourceError("give both --lon and --lat, or --wkt")
        if self.wkt is None and self.lon is None:
            self._recognise()

    def _named(self, name: str | None, option: str) -> int | None:
        if name is None:
            return None
        for candidate in (name, name.casefold()):
            for index, column in enumerate(self.names):
                if column == candidate or column.casefold() == candidate:
                    return index
        raise ImportSourceError(
            f"{option}: no column '{name}'; the columns are: {', '.join(self.names)}"
        )

    def _recognise(self) -> None:
        folded = [fold(n) for n in self.names]
        lon = _first(folded, LON_NAMES)
        lat = _first(folded, LAT_NAMES)
        if lon is not None and lat is not None:
            self.lon, self.lat = lon, lat
        else:
            self.wkt = _first(folded, WKT_NAMES)

    @property
    def used(self) -> set[int]:
        return {i for i in (self.lon, self.lat, self.wkt) if i is not None}

    def describe(self, crs: str | None = None) -> str:
        where = f" in {crs}" if crs and self.wkt is None and self.lon is not None else ""
        return self._columns() + where

    def _columns(self) -> str:
        if self.wkt is not None:
            return f"geometry from WKT column '{self.names[self.wkt]}'"
        if self.lon is not None and self.lat is not None:
            return f"coordinates from columns '{self.names[self.lon]}', '{self.names[self.lat]}'"
        return "no geometry columns"


def _first(folded: list[str], candidates: tuple[str, ...]) -> int | None:
    for candidate in candidates:
        if candidate in folded:
            return folded.index(candidate)
    return None


class TableRows:
    """Features from rows of cells whose first rows hold titles, then a header."""

    def __init__(
        self,
        rows: Iterable[tuple[int, Cells]],
        options: ImportOptions,
        decimal_comma: bool,
        unit: str = "line",
    ) -> None:
        self._rows = iter(rows)
        self._options = options
        self.decimal_comma = decimal_comma
        self.unit = unit
        self._sample = [row for _, row in zip(range(SAMPLE_ROWS), self._rows, strict=False)]
        if not self._sample:
            raise ImportSourceError("the file holds no rows")
        self._header = find_header(self._sample)
        self.header_line, header_cells = self._sample[self._header]
        self.names = column_names(header_cells)
        self.geometry = CoordinateColumns(self.names, options)
        used = self.geometry.used
        self._property_columns = [(i, name) for i, name in enumerate(self.names) if i not in used]

    def __iter__(self) -> Iterator[SourceRow | Rejected]:
        row = self._row
        for line, cells in self._sample[self._header + 1 :]:
            if (item := row(line, cells)) is not None:
                yield item
        for line, cells in self._rows:
            if (item := row(line, cells)) is not None:
                yield item

    def _row(self, line: int, cells: Cells) -> SourceRow | Rejected | None:
        """The row as a feature, or why it cannot be one; None for a blank row."""
        width = _width(cells)
        if width == 0:
            return None
        if width > len(self.names):
            return self._reject(
                line,
                f"{width} values, but the header (line {self.header_line}) names "
                f"{len(self.names)} columns",
            )
        try:
            geometry = self._geometry(cells)
        except (CoordinateError, ValueError) as exc:
            return self._reject(line, str(exc))
        return SourceRow(line, self._properties(cells), geometry)

    def _reject(self, line: int, reason: str) -> Rejected:
        return Rejected(line, reason, self.unit)

    def _properties(self, cells: Cells) -> dict[str, Any]:
        value, count = self._value, len(cells)
        return {
            name: value(cells[index]) if index < count else None
            for index, name in self._property_columns
        }

    def _value(self, cell: Any) -> Any:
        if isinstance(cell, str):
            return typed(cell, self.decimal_comma)
        if isinstance(cell, datetime | date | time):
            return cell.isoformat()
        return cell

    def _geometry(self, cells: Cells) -> dict[str, Any] | None:
        columns = self.geometry
        if columns.wkt is not None:
            return self._wkt(_cell(cells, columns.wkt), columns.names[columns.wkt])
        if columns.lon is None or columns.lat is None:
            return None
        lon, lat = _cell(cells, columns.lon), _cell(cells, columns.lat)
        if _empty(lon) and _empty(lat):
            raise ValueError(
                f"no coordinates (columns '{columns.names[columns.lon]}' and "
                f"'{columns.names[columns.lat]}' are empty)"
            )
        x = self._number(lon, columns.names[columns.lon])
        y = self._number(lat, columns.names[columns.lat])
        return to_wgs84({"type": "Point", "coordinates": [x, y]}, self._options.crs)

    @staticmethod
    def _number(cell: Any, name: str) -> float:
        value = coordinate(cell)
        if value is None:
            shown = "empty" if _empty(cell) else f"'{cell}', not a number"
            raise ValueError(f"column '{name}' is {shown}")
        return value

    def _wkt(self, cell: Any, name: str) -> dict[str, Any]:
        if _empty(cell):
            raise ValueError(f"no geometry (column '{name}' is empty)")
        text, crs = str(cell), self._options.crs
        ewkt = _EWKT.fullmatch(text)
        if ewkt:
            crs, text = (None if ewkt[1] == "4326" else f"EPSG:{ewkt[1]}"), ewkt[2]
        try:
            shape = shapely.wkt.loads(text)
        except (ShapelyError, ValueError) as exc:
            raise ValueError(f"column '{name}' is not WKT ({_first_line(exc)})") from None
        if shape.is_empty:
            raise ValueError(f"column '{name}' holds an empty geometry")
        return to_wgs84(orjson.loads(shapely.to_geojson(shape)), crs)


def _cell(cells: Cells, index: int) -> Any:
    return cells[index] if index < len(cells) else None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
