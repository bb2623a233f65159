"""Where each bulk download lives, and what it is: one table for the download routes, the
DCAT-AP.de catalog, the CKAN API and the portal, so their links cannot drift apart.

``/downloads/collections/{slug}.{ext}`` is a feature collection; ``/downloads/datastreams/
{id}.{ext}`` a Datastream's Observations and ``/downloads/multidatastreams/{id}.{ext}`` a
MultiDatastream's (``?from=`` and ``?to=`` narrow the time range).
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/downloads"
_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"


@dataclass(frozen=True)
class DownloadFormat:
    """A bulk download format: its file suffix, media type and EU file-type authority code."""

    extension: str
    media_type: str
    code: str
    title: str

    @property
    def file_type_uri(self) -> str:
        """The format as DCAT-AP.de names it (``dct:format``)."""
        return _FILE_TYPE + self.code


FORMATS: dict[str, DownloadFormat] = {
    fmt.extension: fmt
    for fmt in (
        DownloadFormat("csv", "text/csv", "CSV", "CSV"),
        DownloadFormat("geojson", "application/geo+json", "GEOJSON", "GeoJSON"),
        DownloadFormat("parquet", "application/vnd.apache.parquet", "PARQUET", "Parquet"),
    )
}


def collection_download(base: str, slug: str, extension: str) -> str:
    """The URL of a feature collection's download (``base``: the hub's public URL)."""
    return f"{base.rstrip('/')}{PREFIX}/collections/{slug}.{FORMATS[extension].extension}"


def datastream_download(base: str, datastream_id: int, extension: str) -> str:
    """The URL of a Datastream's Observations as a download."""
    return f"{base.rstrip('/')}{PREFIX}/datastreams/{datastream_id}.{FORMATS[extension].extension}"


def multi_datastream_download(base: str, multi_datastream_id: int, extension: str) -> str:
    """The URL of a MultiDatastream's Observations as a download."""
    file = f"{multi_datastream_id}.{FORMATS[extension].extension}"
    return f"{base.rstrip('/')}{PREFIX}/multidatastreams/{file}"
