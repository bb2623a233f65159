"""The catalog (DCAT-AP.de) and the CKAN-compatible API in the hub's OpenAPI document
(docs/catalog.md says the rest). The CKAN actions are one path each, from the table the
face answers them by, so a new action cannot be missing here."""

from __future__ import annotations

from typing import Any

from cityhub.catalog import ckan_search
from cityhub.catalog.ckan_api import ACTIONS, PREFIXES
from cityhub.catalog.http import MAX_PAGE_SIZE
from cityhub.catalog.rdf import MEDIA_TYPES

_STRING = {"type": "string"}
_INTEGER = {"type": "integer", "minimum": 0}
_BOOLEAN = {"type": "boolean", "default": False}


def _parameter(name: str, where: str, description: str, schema: dict[str, Any]) -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


# --- the DCAT-AP.de catalog -------------------------------------------------------------------

_FORMAT = _parameter(
    "format", "path", "The serialisation.", {"type": "string", "enum": list(MEDIA_TYPES)}
)
_SLUG = _parameter("slug", "path", "The dataset's slug.", _STRING)
_ACCEPT = _parameter(
    "Accept", "header", "The serialisation, when the path names none (Turtle by default).", _STRING
)
_CONDITIONS = [
    _parameter("If-None-Match", "header", "The ETag of the client's copy.", _STRING),
    _parameter("If-Modified-Since", "header", "The Last-Modified of the client's copy.", _STRING),
]
_PAGING = [
    _parameter(
        "page", "query", "The page, from 1.", {"type": "integer", "minimum": 1, "default": 1}
    ),
    _parameter(
        "page_size",
        "query",
        "Datasets a page (default: the catalog_page_size setting, 100).",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    ),
]
_VALIDATORS = {
    name: {"description": description, "schema": _STRING}
    for name, description in (
        ("ETag", "Changes whenever the answer would."),
        ("Last-Modified", "The latest change of what the answer shows."),
        ("Cache-Control", "public, max-age=300; private for a restricted dataset's record."),
    )
}


def _rdf(summary: str, parameters: list[dict[str, Any]], missing: str) -> dict[str, Any]:
    content = {media_type: {"schema": _STRING} for media_type in MEDIA_TYPES.values()}
    return {
        "get": {
            "tags": ["catalog"],
            "summary": summary,
            "parameters": [*parameters, *_CONDITIONS],
            "responses": {
                "200": {"description": "The graph.", "content": content, "headers": _VALIDATORS},
                "304": {"description": "The client's copy is current.", "headers": _VALIDATORS},
                "400": {"description": "A parameter is not a whole number from 1, or too big."},
                "404": {"description": missing},
            },
        }
    }


def _catalog() -> dict[str, Any]:
    page = "The DCAT-AP.de catalog, one page (Hydra paging)"
    record = "One dataset's DCAT-AP.de record, with its distributions"
    no_page = "No such format, or a page past the last."
    no_dataset = "No such dataset the client may see."
    return {
        "/catalog": _rdf(page, [*_PAGING, _ACCEPT], no_page),
        "/catalog.{format}": _rdf(page, [_FORMAT, *_PAGING], no_page),
        "/catalog/datasets/{slug}": _rdf(record, [_SLUG, _ACCEPT], no_dataset),
        "/catalog/datasets/{slug}.{format}": _rdf(record, [_SLUG, _FORMAT], no_dataset),
    }


# --- the CKAN-compatible API ------------------------------------------------------------------

_ID = _parameter("id", "query", "The name (slug) or id.", _STRING)
_LIMIT = _parameter("limit", "query", "At most this many.", _INTEGER)
_OFFSET = _parameter("offset", "query", "Skip this many.", _INTEGER)
_LISTING = [
    _parameter("all_fields", "query", "Whole objects rather than names.", _BOOLEAN),
    _parameter("sort", "query", "'name asc', 'title asc', 'package_count desc' …", _STRING),
    _LIMIT,
    _OFFSET,
]
_FIELDS = ", ".join(ckan_search.FIELDS)
_SEARCH = [
    _parameter("q", "query", "Words that must all occur; 'field:value' clauses too.", _STRING),
    _parameter("fq", "query", f"'field:value' clauses that must all hold ({_FIELDS}).", _STRING),
    _parameter(
        "rows",
        "query",
        "Packages to return.",
        {"type": "integer", "minimum": 0, "maximum": ckan_search.MAX_ROWS, "default": 10},
    ),
    _parameter("start", "query", "Matches to skip.", {**_INTEGER, "default": 0}),
    _parameter(
        "sort",
        "query",
        "'score desc, metadata_modified desc' (default), metadata_modified, metadata_created, "
        "title_string, name; each asc or desc, comma-separated.",
        _STRING,
    ),
    _parameter(
        "facet.field",
        "query",
        f'A JSON list of fields to count, e.g. ["tags"] ({_FIELDS}).',
        _STRING,
    ),
    _parameter(
        "facet.limit",
        "query",
        "Values a facet lists.",
        {**_INTEGER, "default": ckan_search.FACET_LIMIT},
    ),
]
_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "package_list": [_LIMIT, _OFFSET],
    "package_show": [{**_ID, "required": True}],
    "package_search": _SEARCH,
    "organization_list": _LISTING,
    "organization_show": [
        {**_ID, "required": True},
        _parameter("include_datasets", "query", "With its public packages.", _BOOLEAN),
    ],
    "group_list": _LISTING,
    "tag_list": [
        _parameter("query", "query", "Only keywords containing this.", _STRING),
        _parameter("all_fields", "query", "Tag objects rather than names.", _BOOLEAN),
    ],
}
_ENVELOPE = {
    "type": "object",
    "required": ["help", "success"],
    "properties": {
        "help": {"type": "string", "format": "uri"},
        "success": {"type": "boolean"},
        "result": {},
        "error": {"type": "object", "properties": {"__type": _STRING, "message": _STRING}},
    },
}
_JSON = {"application/json": {"schema": _ENVELOPE}}
_CKAN_RESPONSES = {
    "200": {"description": "CKAN's envelope with the result.", "content": _JSON},
    "400": {"description": "A body that is not JSON, or an action not here.", "content": _JSON},
    "404": {"description": "No such (visible) dataset or organization.", "content": _JSON},
    "409": {
        "description": "A missing or malformed parameter, a search not supported.",
        "content": _JSON,
    },
}


def _action(name: str, prefix: str) -> dict[str, Any]:
    parameters = _PARAMETERS.get(name, [])
    summary = f"CKAN action {name}" + ("" if prefix == PREFIXES[0] else f" (as {PREFIXES[0]})")
    body: dict[str, Any] = {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in parameters},
    }
    if any(p["required"] for p in parameters):
        body["required"] = [p["name"] for p in parameters if p["required"]]
    content = {
        "application/json": {"schema": body},
        "application/x-www-form-urlencoded": {"schema": body},
    }
    common = {"tags": ["ckan"], "summary": summary, "responses": _CKAN_RESPONSES}
    return {
        "get": {**common, "parameters": parameters},
        "post": {**common, "requestBody": {"required": False, "content": content}},
    }


def paths() -> dict[str, Any]:
    """The catalog's paths and one path per CKAN action under each of CKAN's prefixes."""
    ckan = {f"{prefix}/{name}": _action(name, prefix) for prefix in PREFIXES for name in ACTIONS}
    return {**_catalog(), **ckan}
