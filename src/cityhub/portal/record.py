"""A dataset's catalog record as its portal page shows it: the controlled vocabulary values
named (themes, update frequency, high-value category), its bulk downloads, and the
addresses of its DCAT-AP.de record and of the catalog.

The addresses come from the tables the catalog and the downloads are served by
(``cityhub.downloads.urls``, ``RDF_FORMATS`` here), so the page cannot link a file that the
hub names differently elsewhere. A dataset's IRI in the catalog is its portal page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityhub.catalog.rdf import MEDIA_TYPES, TITLES
from cityhub.datasets import vocabularies
from cityhub.downloads.urls import (
    FORMATS,
    collection_download,
    datastream_download,
    multi_datastream_download,
)


@dataclass(frozen=True)
class Link:
    """A file of one format: its address, media type and the format's name for people."""

    url: str
    media_type: str
    title: str


#: The serialisations of the DCAT-AP.de catalog and of each dataset's record.
RDF_FORMATS = tuple((ext, media, TITLES[ext]) for ext, media in MEDIA_TYPES.items())


def catalog_links(base: str) -> list[Link]:
    """The whole DCAT-AP.de catalog, in each serialisation."""
    return [Link(f"{base}/catalog.{ext}", media, title) for ext, media, title in RDF_FORMATS]


def record_links(base: str, slug: str) -> list[Link]:
    """One dataset's DCAT-AP.de record, in each serialisation."""
    address = f"{base}/catalog/datasets/{slug}"
    return [Link(f"{address}.{ext}", media, title) for ext, media, title in RDF_FORMATS]


def collection_downloads(base: str, slug: str) -> list[Link]:
    """A feature collection as CSV, GeoJSON and Parquet."""
    return _files(lambda ext: collection_download(base, slug, ext))


def datastream_downloads(base: str, datastream_id: int) -> list[Link]:
    """A Datastream's Observations as CSV, GeoJSON and Parquet."""
    return _files(lambda ext: datastream_download(base, datastream_id, ext))


def multi_datastream_downloads(base: str, multi_datastream_id: int) -> list[Link]:
    """A MultiDatastream's Observations as CSV, GeoJSON and Parquet."""
    return _files(lambda ext: multi_datastream_download(base, multi_datastream_id, ext))


def _files(url_of: Callable[[str], str]) -> list[Link]:
    """A download in each bulk format, ``url_of`` its URL by the format's extension."""
    return [Link(url_of(ext), fmt.media_type, fmt.title) for ext, fmt in FORMATS.items()]


@dataclass(frozen=True)
class Vocabulary:
    """The dataset's vocabulary values as the keys of their names in the catalogues
    (``portal.theme.<code>``, ``portal.freq.<code>``, ``portal.hvd.<key>``); None where a
    value is unset or not one the hub knows (the page then shows the URI)."""

    themes: list[tuple[str | None, str]]  # (code, URI)
    frequency: str | None
    hvd: str | None


def vocabulary(dataset: dict[str, Any]) -> Vocabulary:
    return Vocabulary(
        [(vocabularies.key_of(uri, vocabularies.THEMES), uri) for uri in dataset["themes"]],
        vocabularies.key_of(dataset["update_frequency"], vocabularies.FREQUENCIES),
        vocabularies.key_of(dataset["hvd_category"], vocabularies.HVD_CATEGORIES),
    )


def instant(text: str | None) -> datetime | None:
    """A stored instant as the JSON-ready data gives it (``2026-12-03T10:00:00Z``)."""
    return None if not text else datetime.fromisoformat(text)


def page_context(base: str, context: dict[str, Any]) -> dict[str, Any]:
    """The dataset page's context with the record added: every collection, Datastream and
    MultiDatastream with its downloads, the record's links, the vocabulary named, the dates
    parsed."""
    dataset = context["dataset"]
    return {
        **context,
        "collections": [
            {**c, "downloads": collection_downloads(base, c["slug"])}
            for c in context["collections"]
        ],
        "datastreams": [
            {**d, "downloads": datastream_downloads(base, d["id"])} for d in context["datastreams"]
        ],
        "multi_datastreams": [
            {**m, "downloads": multi_datastream_downloads(base, m["id"])}
            for m in context["multi_datastreams"]
        ],
        "record": record_links(base, dataset["slug"]),
        "vocabulary": vocabulary(dataset),
        "issued": instant(dataset["created_at"]),
        "modified": instant(dataset["modified_at"]),
    }
