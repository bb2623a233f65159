"""The OpenAPI 3.0 definition of the ``/features`` face (``/features/api``)."""

from __future__ import annotations

from typing import Any

from cityhub import __version__
from cityhub.features import crs
from cityhub.features.params import DEFAULT_LIMIT, MAX_LIMIT


def _parameter(name: str, description: str, schema: dict[str, Any], where: str = "query") -> dict:
    found = {"name": name, "in": where, "description": description, "schema": schema}
    if where == "path":
        found["required"] = True
    return found


_STRING = {"type": "string"}
_CRS = {"type": "string", "format": "uri", "enum": list(crs.SUPPORTED)}
_F = _parameter("f", "the encoding: json or html", {"type": "string", "enum": ["json", "html"]})
_COLLECTION = _parameter("collectionId", "the collection", _STRING, "path")
_ITEMS = [
    _F,
    _parameter(
        "limit",
        "features per page",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    _parameter("offset", "features to skip", {"type": "integer", "minimum": 0, "default": 0}),
    _parameter(
        "bbox", "minx,miny,maxx,maxy in bbox-crs", {"type": "array", "items": {"type": "number"}}
    ),
    _parameter("bbox-crs", "the CRS of bbox", _CRS),
    _parameter("datetime", "an instant or interval, '..' for an open end", _STRING),
    _parameter("crs", "the CRS of the response's geometries", _CRS),
    _parameter("filter", "a CQL2 filter", _STRING),
    _parameter(
        "filter-lang",
        "cql2-text or cql2-json",
        {"type": "string", "enum": ["cql2-text", "cql2-json"]},
    ),
    _parameter("filter-crs", "the CRS of the filter's geometries", _CRS),
    _parameter("near", "lon,lat (WGS 84): order by distance, add 'distance' in metres", _STRING),
    _parameter("radius", "metres around 'near' (more than 0)", {"type": "number"}),
    _parameter("within", "COLLECTION/FEATURE_ID: only features within that feature", _STRING),
]


def _get(summary: str, parameters: list[dict[str, Any]], media: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {media: {}, "text/html": {}}},
                "400": {"description": "a parameter is invalid"},
                "404": {"description": "no such collection or feature"},
            },
        }
    }


_AUTH: dict[str, list[str]] = {"bearer": []}
_WRITE_ERRORS = {
    "400": {"description": "the body is no valid feature; the message says why"},
    "401": {"description": "no token"},
    "403": {"description": "the token may not write this collection"},
    "404": {"description": "no such collection or feature (or not visible to the token)"},
    "405": {"description": "the collection is read-only (sensors)"},
    "409": {"description": "another feature has the key"},
    "415": {"description": "unsupported Content-Type"},
}
_CONTENT_CRS = _parameter(
    "Content-Crs", "the CRS of the body's geometries (default CRS84)", _CRS, "header"
)
_FEATURE_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"type": "object", "description": "a GeoJSON Feature"}}
        for media in ("application/geo+json", "application/json")
    },
}


def _write(
    summary: str, parameters: list[dict[str, Any]], ok: dict[str, Any], body: Any = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "summary": summary,
        "security": [_AUTH],
        "parameters": parameters,
        "responses": {**ok, **_WRITE_ERRORS},
    }
    if body is not None:
        found["requestBody"] = body
    return found


def _writes(feature: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Part 4: the operations on the items of a collection and on one item."""
    item = [_COLLECTION, feature]
    patch_body = {
        "required": True,
        "content": {
            "application/merge-patch+json": {
                "schema": {"type": "object", "description": "a JSON Merge Patch (RFC 7396)"}
            }
        },
    }
    done = {"204": {"description": "done"}}
    created = {
        "201": {
            "description": "created",
            "headers": {"Location": {"description": "the new feature", "schema": _STRING}},
        }
    }
    on_items = {
        "post": _write("add a feature", [_COLLECTION, _CONTENT_CRS], created, _FEATURE_BODY)
    }
    on_item = {
        "put": _write("replace the feature", [*item, _CONTENT_CRS], done, _FEATURE_BODY),
        "patch": _write("update the feature", [*item, _CONTENT_CRS], done, patch_body),
        "delete": _write("delete the feature", item, done),
    }
    return on_items, on_item


def paths(prefix: str) -> dict[str, Any]:
    """The face's paths under ``prefix``, for the hub's own API document."""
    return {prefix + path: item for path, item in document(prefix)["paths"].items()}


def document(base: str) -> dict[str, Any]:
    geojson = "application/geo+json"
    feature = _parameter("featureId", "the feature", {"type": "integer"}, "path")
    nearby = [
        _parameter("lon", "longitude (WGS 84)", {"type": "number"}),
        _parameter("lat", "latitude (WGS 84)", {"type": "number"}),
        _parameter("collections", "comma-separated collection ids", _STRING),
        _parameter("limit", "how many", {"type": "integer", "minimum": 1, "maximum": 1000}),
        _parameter("radius", "metres", {"type": "number"}),
        _F,
    ]
    on_items, on_item = _writes(feature)
    return {
        "openapi": "3.0.3",
        "info": {"title": "cityhub – OGC API Features", "version": __version__},
        "servers": [{"url": base}],
        "paths": {
            "/": _get("landing page", [_F], "application/json"),
            "/conformance": _get("conformance classes", [_F], "application/json"),
            "/api": _get("this definition", [], "application/vnd.oai.openapi+json;version=3.0"),
            "/collections": _get("the collections", [_F], "application/json"),
            "/collections/{collectionId}": _get(
                "a collection", [_COLLECTION, _F], "application/json"
            ),
            "/collections/{collectionId}/items": {
                **_get("its features", [_COLLECTION, *_ITEMS], geojson),
                **on_items,
            },
            "/collections/{collectionId}/items/{featureId}": {
                **_get("one feature", [_COLLECTION, feature, _F, _ITEMS[6]], geojson),
                **on_item,
            },
            "/collections/{collectionId}/queryables": _get(
                "its queryables", [_COLLECTION, _F], "application/schema+json"
            ),
            "/collections/{collectionId}/counts": _get(
                "how many of its features lie within each feature of another collection",
                [_COLLECTION, _parameter("within", "the collection of areas", _STRING), _F],
                "application/json",
            ),
            "/nearby": _get("the nearest features of some collections", nearby, geojson),
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
