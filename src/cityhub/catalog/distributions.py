"""The distributions of a dataset: every face through which its data can be had.

The SensorThings API of its Things, the OGC API – Features endpoint of each collection, and
each bulk download of a collection, a Datastream or a MultiDatastream (URLs and formats from
``cityhub.downloads.urls``, the one table the download routes use too). The DCAT-AP.de graph
lists them as ``dcat:Distribution``s, the CKAN API as resources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cityhub.catalog.records import Record
from cityhub.downloads.urls import (
    FORMATS,
    collection_download,
    datastream_download,
    multi_datastream_download,
)

_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
STA_SPEC = "http://www.opengis.net/spec/iot_sensing/1.1"
FEATURES_SPEC = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
_COLUMNS = ", one column per ObservedProperty"


@dataclass(frozen=True)
class Service:
    """An API of the hub that serves many datasets (a ``dcat:DataService``)."""

    key: str  # the fragment of its IRI in the catalog
    title: str
    path: str  # its endpoint below the hub's URL
    conforms_to: str


SENSORTHINGS = Service("sensorthings-api", "OGC SensorThings API", "/v1.1", STA_SPEC)
FEATURES = Service("features-api", "OGC API – Features", "/features", FEATURES_SPEC)


@dataclass(frozen=True)
class Distribution:
    key: str  # unique within the dataset: the fragment of its IRI, the CKAN resource id
    title: str
    description: str
    access_url: str
    download_url: str | None
    format: str  # its label (CKAN's resource format): JSON, GeoJSON, CSV, …
    format_uri: str  # EU file-type authority URI (dct:format)
    media_type: str
    service: Service | None = None  # the API it is a part of; None: a download


def services_of(record: Record) -> list[Service]:
    """The APIs serving the record's data."""
    return [
        found
        for found, has in ((SENSORTHINGS, record.things), (FEATURES, record.collections))
        if has
    ]


def distributions(record: Record, base: str) -> list[Distribution]:
    """The record's distributions in a stable order: API first, then downloads."""
    found: list[Distribution] = []
    if record.things:
        found.append(
            Distribution(
                "sensorthings",
                "SensorThings API",
                f"OGC SensorThings API 1.1 of the {record.things} Things and "
                f"{len(record.datastreams)} Datastreams of this dataset, with live values.",
                f"{base}/v1.1",
                None,
                "JSON",
                _FILE_TYPE + "JSON",
                "application/json",
                SENSORTHINGS,
            )
        )
    for collection in record.collections:
        found.append(
            Distribution(
                f"features-{collection.slug}",
                f"{collection.title} (OGC API – Features)",
                collection.description or f"The features of '{collection.title}' as an API.",
                f"{base}/features/collections/{collection.slug}",
                None,
                "GeoJSON",
                _FILE_TYPE + "GEOJSON",
                "application/geo+json",
                FEATURES,
            )
        )
    for collection in record.collections:
        found += _downloads(
            f"download-{collection.slug}",
            collection.title,
            f"All features of '{collection.title}' as one file",
            lambda extension, slug=collection.slug: collection_download(base, slug, extension),
        )
    streams = (
        ("Datastream", record.datastreams, datastream_download, ""),
        ("MultiDatastream", record.multi_datastreams, multi_datastream_download, _COLUMNS),
    )
    for kind, refs, url, columns in streams:
        for stream in refs:
            found += _downloads(
                f"download-{kind.lower()}-{stream.id}",
                stream.name,
                f"The Observations of {kind} {stream.id} ('{stream.name}'){columns}; ?from= "
                "and ?to= narrow the time range",
                lambda extension, id_=stream.id, url=url: url(base, id_, extension),
            )
    return found


def _downloads(
    key: str, title: str, description: str, url_of: Callable[[str], str]
) -> list[Distribution]:
    """One download distribution in each bulk format."""
    return [
        Distribution(
            f"{key}-{fmt.extension}",
            f"{title} ({fmt.title})",
            f"{description}: {fmt.title}.",
            url_of(fmt.extension),
            url_of(fmt.extension),
            fmt.title,
            fmt.file_type_uri,
            fmt.media_type,
        )
        for fmt in FORMATS.values()
    ]
