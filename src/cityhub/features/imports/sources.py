"""Which reader a source needs: from the format given, the file name, the media type, or
its first bytes."""

from __future__ import annotations

from cityhub.features.imports.delimited import CsvReader
from cityhub.features.imports.geojson import GeoJsonReader
from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import ImportSourceError, Reader
from cityhub.features.imports.workbook import XlsxReader

FORMATS = ("geojson", "csv", "xlsx")
EXTENSIONS = {
    "geojson": "geojson", "json": "geojson", "ndjson": "geojson", "geojsonl": "geojson",
    "geojsons": "geojson", "jsonl": "geojson", "csv": "csv", "tsv": "csv", "txt": "csv",
    "xlsx": "xlsx", "xlsm": "xlsx",
}  # fmt: skip
MEDIA_TYPES = {
    "application/geo+json": "geojson",
    "application/json": "geojson",
    "application/geo+json-seq": "geojson",
    "application/x-ndjson": "geojson",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}

__all__ = ["FORMATS", "ImportSourceError", "detect_format", "open_reader"]


def detect_format(data: bytes, name: str | None = None, media_type: str | None = None) -> str:
    """``geojson``, ``csv`` or ``xlsx``; ImportSourceError for a legacy Excel file."""
    extension = (name or "").rsplit("/", 1)[-1].rpartition(".")[2].casefold() if name else ""
    if extension == "xls" or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportSourceError("a legacy Excel (.xls) file; save it as .xlsx or .csv")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    media = (media_type or "").split(";")[0].strip().casefold()
    if media in MEDIA_TYPES:
        return MEDIA_TYPES[media]
    head = data[:64].lstrip(b"\xef\xbb\xbf\x1e \t\r\n")
    return "geojson" if head.startswith(b"{") else "csv"


def open_reader(
    data: bytes,
    options: ImportOptions,
    name: str | None = None,
    media_type: str | None = None,
) -> Reader:
    """A reader for ``data``; ImportSourceError when the source cannot be read at all."""
    kind = options.format or detect_format(data, name, media_type)
    if kind not in FORMATS:
        raise ImportSourceError(f"unknown format '{kind}'; one of {', '.join(FORMATS)}")
    if not data.strip():
        raise ImportSourceError("the file is empty")
    if kind == "xlsx":
        return XlsxReader(data, options)
    if kind == "csv":
        return CsvReader(data, options)
    return GeoJsonReader(data, options)
