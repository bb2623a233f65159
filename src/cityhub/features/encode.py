"""Documents of the face as JSON: landing page, conformance, collections, features, with the
links OGC API – Features asks for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from cityhub.features import crs
from cityhub.features.cql2 import conformance_classes
from cityhub.features.reads import Item
from cityhub.features.sources import Collection
from cityhub.features.summary import Summary
from cityhub.features.transactions import CONFORMANCE as _TRANSACTIONS
from cityhub.timeutil import format_instant

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"

_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CONFORMANCE = (
    _CORE + "core",
    _CORE + "oas30",
    _CORE + "geojson",
    _CORE + "html",
    _CRS + "crs",
    _FILTER + "queryables",
    _FILTER + "queryables-query-parameters",
    _FILTER + "filter",
    _FILTER + "features-filter",
    *conformance_classes(),
    *_TRANSACTIONS,
)


def link(href: str, rel: str, type: str, title: str | None = None) -> dict[str, str]:
    found = {"href": href, "rel": rel, "type": type}
    if title:
        found["title"] = title
    return found


def landing(base: str) -> dict[str, Any]:
    return {
        "title": "cityhub – OGC API Features",
        "description": "Die Orte der Stadt und ihre Sensoren / The city's places and sensors.",
        "links": [
            link(f"{base}?f=json", "self", JSON, "this document"),
            link(f"{base}?f=html", "alternate", HTML, "this document as HTML"),
            link(f"{base}/api", "service-desc", OPENAPI, "the API definition"),
            link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
            link(f"{base}/collections", "data", JSON, "the collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def collection(base: str, found: Collection, summary: Summary | None) -> dict[str, Any]:
    url = f"{base}/collections/{found.slug}"
    document: dict[str, Any] = {
        "id": found.slug,
        "title": found.title,
        "description": found.description or "",
        "itemType": "feature",
        "crs": list(crs.SUPPORTED),
        "storageCrs": crs.CRS84,
        "links": [
            link(url, "self", JSON, "this collection"),
            link(f"{url}?f=html", "alternate", HTML, "this collection as HTML"),
            link(f"{url}/items", "items", GEOJSON, "the features"),
            link(f"{url}/items?f=html", "items", HTML, "the features as HTML"),
            link(
                f"{url}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA,
                "the queryables",
            ),
        ],
    }
    if found.keywords:
        document["keywords"] = list(found.keywords)
    if found.licence:
        document["links"].append(link(found.licence, "license", HTML, "licence"))
    if summary is not None:
        document["extent"] = _extent(summary)
    return document


def _extent(summary: Summary) -> dict[str, Any]:
    extent: dict[str, Any] = {}
    if summary.bbox is not None:
        extent["spatial"] = {"bbox": [list(summary.bbox)], "crs": crs.CRS84}
    if summary.start is not None:
        interval = [format_instant(summary.start), format_instant(summary.end or summary.start)]
        extent["temporal"] = {"interval": [interval]}
    return extent


def collections(base: str, found: list[tuple[Collection, Summary | None]]) -> dict[str, Any]:
    return {
        "links": [
            link(f"{base}/collections", "self", JSON, "the collections"),
            link(f"{base}/collections?f=html", "alternate", HTML, "the collections as HTML"),
        ],
        "crs": list(crs.SUPPORTED),
        "collections": [collection(base, one, summary) for one, summary in found],
    }


def feature(item: Item, base: str, slug: str, target_crs: str) -> dict[str, Any]:
    url = f"{base}/collections/{slug}/items/{item.id}"
    properties = dict(item.properties)
    if item.time_start is not None:
        properties.setdefault("datetime", _time(item))
    if item.distance is not None:
        properties["distance"] = round(item.distance, 2)
    geometry = item.geometry
    if target_crs != crs.CRS84:
        geometry = crs.transform_geometry(geometry, crs.from_storage(target_crs))
    document: dict[str, Any] = {
        "type": "Feature",
        "id": item.id,
        "geometry": geometry,
        "properties": properties,
        "links": [
            link(url, "self", GEOJSON, "this feature"),
            link(f"{url}?f=html", "alternate", HTML, "this feature as HTML"),
            link(f"{base}/collections/{slug}", "collection", JSON, "the collection"),
        ],
    }
    return document


def _time(item: Item) -> str:
    assert item.time_start is not None
    start = format_instant(item.time_start)
    return start if item.time_end is None else f"{start}/{format_instant(item.time_end)}"


def page_links(
    url: str, params: dict[str, str], offset: int, limit: int, returned: int, matched: int | None
) -> list[dict[str, str]]:
    """self, alternate, next and prev links of an items page (the other parameters kept)."""

    def at(new_offset: int, f: str) -> str:
        query = {**params, "offset": str(new_offset), "limit": str(limit), "f": f}
        if new_offset == 0:
            query.pop("offset")
        return f"{url}?{urlencode(query)}"

    links = [
        link(at(offset, "json"), "self", GEOJSON, "this page"),
        link(at(offset, "html"), "alternate", HTML, "this page as HTML"),
    ]
    has_more = returned == limit if matched is None else offset + returned < matched
    if has_more:
        links.append(link(at(offset + limit, "json"), "next", GEOJSON, "the next page"))
    if offset > 0:
        links.append(link(at(max(offset - limit, 0), "json"), "prev", GEOJSON, "the previous page"))
    return links


def queryables(base: str, slug: str, summary: Summary) -> dict[str, Any]:
    """The queryables as a JSON Schema (OGC API – Features Part 3)."""
    properties: dict[str, Any] = {
        "id": {"title": "Feature id", "type": "integer"},
        "geometry": {"title": "Geometry", "format": "geometry-any"},
        "datetime": {"title": "Time or time interval", "type": "string", "format": "date-time"},
    }
    for name, kind in summary.properties.items():
        properties.setdefault(name, {"title": name, "type": kind})
    for name, kind in summary.live.items():
        properties[name] = {
            "title": name,
            "type": kind,
            "description": "latest value of the linked Thing's Datastream",
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{slug}/queryables",
        "type": "object",
        "title": slug,
        "properties": properties,
        "additionalProperties": False,
    }
