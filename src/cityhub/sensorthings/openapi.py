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
    for set_name, bucket in (
        ("Datastreams", "AggregateBucket"),
        ("MultiDatastreams", "MultiAggregateBucket"),
    ):
        aggregate = _aggregate(id_parameter, set_name, bucket)
        paths[f"/{version}/{set_name}({{id}})/Observations/$aggregate"] = aggregate
    schemas["AggregateBucket"] = _AGGREGATE_BUCKET
    schemas["MultiAggregateBucket"] = _MULTI_AGGREGATE_BUCKET
    return paths, schemas


_NUMBER_OR_NULL = {"type": ["number", "null"]}  # OpenAPI 3.1
_AGGREGATE_BUCKET = {
    "type": "object",
    "description": "One time bucket; min, max, avg and sum are null when it holds no number.",
    "properties": {
        "phenomenonTime": {**_KIND_SCHEMAS[Kind.INTERVAL], "description": "start/end, in UTC"},
        "count": {"type": "integer", "description": "Observations in the bucket, of any result"},
        "min": {**_NUMBER_OR_NULL, "description": "Smallest numeric result"},
        "max": {**_NUMBER_OR_NULL, "description": "Largest numeric result"},
        "avg": {**_NUMBER_OR_NULL, "description": "Mean of the numeric results"},
        "sum": {**_NUMBER_OR_NULL, "description": "Sum of the numeric results"},
    },
    "required": ["phenomenonTime"],
}
_AGGREGATE_PARAMETERS = (
    (
        "interval",
        True,
        "Bucket length, ISO 8601: a clock duration (PT15M, PT1H) is a fixed span; a calendar "
        "duration (P1D, P1W, P1M, P1Y) steps the wall clock of timeZone.",
    ),
    (
        "phenomenonTime",
        True,
        "The range start/end (start inclusive, end exclusive); buckets start at its start.",
    ),
    ("timeZone", False, "IANA time zone of calendar durations, e.g. Europe/Berlin; default UTC."),
)


_MULTI_AGGREGATE_BUCKET = {
    "type": "object",
    "description": "One time bucket of a MultiDatastream: min, max, avg and sum have one entry "
    "per component, null where the component had no number.",
    "properties": {
        name: (
            {"type": "array", "items": _NUMBER_OR_NULL, "description": schema["description"]}
            if name in ("min", "max", "avg", "sum")
            else schema
        )
        for name, schema in _AGGREGATE_BUCKET["properties"].items()
    },
    "required": ["phenomenonTime"],
}


def _aggregate(id_parameter: dict[str, Any], set_name: str, bucket: str) -> dict[str, Any]:
    """The aggregation extension: one entry per time bucket, paged like a collection."""
    own = [
        {
            "name": name,
            "in": "query",
            "required": required,
            "schema": {"type": "string"},
            "description": description,
        }
        for name, required, description in _AGGREGATE_PARAMETERS
    ]
    options = _parameters(("$filter", "$top", "$skip", "$count"))
    select = {
        "name": "$select",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Figures to return, e.g. avg,max (default: all); phenomenonTime always.",
    }
    page = {
        "type": "object",
        "properties": {
            "@iot.count": {"type": "integer", "description": "Buckets in the range"},
            "value": {"type": "array", "items": {"$ref": f"#/components/schemas/{bucket}"}},
            "@iot.nextLink": {"type": "string", "format": "uri"},
        },
    }
    return {
        "get": {
            "tags": [set_name],
            "summary": f"Aggregate the Observations of one of the {set_name} over time buckets "
            "(extension)",
            "description": "count, min, max, avg and sum of the Observations whose "
            "phenomenonTime starts in each bucket; $filter narrows the Observations. "
            "Empty buckets are listed with count 0. See docs/sensorthings.md, Aggregation.",
            "parameters": [id_parameter, *own, *options, select],
            "responses": {
                "200": _json(page, "A page of buckets"),
                "400": {"description": "Bad parameter, or more buckets than allowed"},
                "404": {"description": f"Unknown {set_name[:-1]}"},
            },
        }
    }


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
