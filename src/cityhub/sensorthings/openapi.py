"""OpenAPI description of the SensorThings face, derived from the entity model."""

from __future__ import annotations

from typing import Any

from cityhub.sensorthings.model import ENTITY_TYPES, EntityType, Kind, Property

_KIND_SCHEMAS: dict[Kind, dict[str, Any]] = {
    Kind.TEXT: {"type": "string"},
    Kind.OBJECT: {"type": "object"},
    Kind.ANY: {},
    Kind.INSTANT: {"type": "string", "format": "date-time"},
    Kind.INTERVAL: {"type": "string", "example": "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z"},
    Kind.TIME: {"type": "string", "example": "2026-11-26T10:00:00Z"},
    Kind.GEOMETRY: {"type": "object", "description": "GeoJSON geometry or Feature"},
    Kind.RESULT: {
        "description": "any JSON value fitting the Datastream's observationType; for a "
        "MultiDatastream an array with one value per ObservedProperty"
    },
}

_QUERY_OPTIONS = {
    "$top": ("integer", "Page size (capped by the server's maximum)."),
    "$skip": ("integer", "Entities to skip."),
    "$count": ("boolean", "Include @iot.count, the number of matching entities."),
    "$orderby": ("string", "Sort keys, e.g. phenomenonTime desc."),
    "$select": ("string", "Properties to return, e.g. id,name."),
    "$expand": (
        "string",
        "Related entities, e.g. Observations($top=1;$orderby=phenomenonTime desc).",
    ),
    "$filter": (
        "string",
        "Condition, e.g. result gt 20 and phenomenonTime ge 2026-11-01T00:00:00Z.",
    ),
}


def _schema(entity: EntityType) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "@iot.id": {"type": "integer", "readOnly": True},
        "@iot.selfLink": {"type": "string", "format": "uri", "readOnly": True},
    }
    for prop in entity.properties:
        properties[prop.name] = _property_schema(prop)
    for relation in entity.relations:
        properties[relation.name] = (
            {"type": "array", "items": {"$ref": f"#/components/schemas/{relation.target}"}}
            if relation.many
            else {"$ref": f"#/components/schemas/{relation.target}"}
        )
    required = [p.name for p in entity.properties if p.required]
    return {"type": "object", "properties": properties, "required": required}


def _property_schema(prop: Property) -> dict[str, Any]:
    schema = dict(_KIND_SCHEMAS[prop.kind if prop.items is None else prop.items])
    if prop.allowed is not None:
        schema["enum"] = sorted(prop.allowed)
    if prop.items is not None:
        schema = {"type": "array", "items": schema}
    if prop.computed:
        schema["readOnly"] = True
    return schema


def _parameters(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": n,
            "in": "query",
            "schema": {"type": _QUERY_OPTIONS[n][0]},
            "description": _QUERY_OPTIONS[n][1],
        }
        for n in names
    ]


def _ref(entity: EntityType) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{entity.name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_fragment(version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, schemas) to merge into the hub's OpenAPI document."""
    paths: dict[str, Any] = {}
    id_parameter = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    secured = [{"bearer": []}]
    for entity in ENTITY_TYPES:
        tag = [entity.set_name]
        page = {"type": "object", "properties": {"value": {"type": "array", "items": _ref(entity)}}}
        collection = f"/{version}/{entity.set_name}"
        single = f"{collection}({{id}})"
        paths[collection] = {
            "get": {
                "tags": tag,
                "summary": f"List {entity.set_name}",
                "parameters": _parameters(tuple(_QUERY_OPTIONS)),
                "responses": {"200": _json(page, f"A page of {entity.set_name}")},
            },
            "post": {
                "tags": tag,
                "summary": f"Create a {entity.name} (deep insert and links by @iot.id allowed)",
                "security": secured,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(entity)}},
                },
                "responses": {"201": _json(_ref(entity), "Created; Location header names it")},
            },
        }
        write = {"tags": tag, "security": secured, "parameters": [id_parameter]}
        paths[single] = {
            "get": {
                "tags": tag,
                "summary": f"One {entity.name}",
                "parameters": [id_parameter, *_parameters(("$select", "$expand"))],
                "responses": {
                    "200": _json(_ref(entity), entity.name),
                    "404": {"description": "Unknown"},
                },
            },
            "patch": {
                **write,
                "summary": f"Change a {entity.name}",
                "requestBody": {"content": {"application/json": {"schema": _ref(entity)}}},
                "responses": {"200": _json(_ref(entity), "Changed")},
            },
            "put": {
                **write,
                "summary": f"Replace a {entity.name}",
                "requestBody": {"content": {"application/json": {"schema": _ref(entity)}}},
                "responses": {"200": _json(_ref(entity), "Replaced")},
            },
            "delete": {
                **write,
                "summary": f"Delete a {entity.name} (with the spec's cascades)",
                "responses": {"200": {"description": "Deleted"}},
            },
        }
        for relation in entity.relations:
            paths[f"{single}/{relation.name}"] = {
                "get": {
                    "tags": tag,
                    "summary": f"The {relation.name} of a {entity.name}",
                    "parameters": [id_parameter, *_parameters(tuple(_QUERY_OPTIONS))],
                    "responses": {"200": {"description": relation.name}},
                }
            }
    paths[f"/{version}/$batch"] = _batch_path(secured)
    schemas = {entity.name: _schema(entity) for entity in ENTITY_TYPES}
    return paths, schemas


def _batch_path(secured: list[dict[str, Any]]) -> dict[str, Any]:
    """``$batch`` (clause 11); its bodies are described in docs/sensorthings.md."""
    multipart = {"schema": {"type": "string", "format": "binary"}}
    json_batch = {"schema": {"type": "object", "properties": {"requests": {"type": "array"}}}}
    return {
        "post": {
            "tags": ["Batch"],
            "summary": "Many requests in one; change sets (atomicity groups) are atomic",
            "description": "OData multipart/mixed or JSON batch. Reads need no token, writes "
            "need the batch's Authorization.",
            "security": [{}, *secured],
            "requestBody": {
                "required": True,
                "content": {"multipart/mixed": multipart, "application/json": json_batch},
            },
            "responses": {
                "200": {
                    "description": "One response per request, in the request's format",
                    "content": {"multipart/mixed": multipart, "application/json": json_batch},
                },
                "400": {"description": "The batch cannot be read; nothing ran"},
            },
        }
    }
