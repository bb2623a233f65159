"""The downloads in the hub's OpenAPI document (docs/downloads.md says the rest)."""

from __future__ import annotations

from typing import Any

from cityhub.downloads.urls import FORMATS, PREFIX


def paths() -> dict[str, Any]:
    formats = {"type": "string", "enum": list(FORMATS)}
    content = {
        fmt.media_type: {"schema": {"type": "string", "format": "binary"}}
        for fmt in FORMATS.values()
    }
    responses = {
        "200": {"description": "The download, streamed.", "content": content},
        "304": {"description": "The client's copy (If-None-Match, If-Modified-Since) is current."},
        "400": {"description": "A parameter is malformed or unknown."},
        "404": {"description": "No such collection or (Multi)Datastream the client may see."},
        "503": {
            "description": "As many downloads are running as the hub serves at once; "
            "Retry-After says when to try again.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    }

    def parameter(name: str, where: str, description: str, **schema: Any) -> dict[str, Any]:
        kind = formats if name == "ext" else {"type": "string", **schema}
        required = where == "path"
        return {
            "name": name,
            "in": where,
            "required": required,
            "description": description,
            "schema": kind,
        }

    def operation(summary: str, *parameters: dict[str, Any]) -> dict[str, Any]:
        every = [*parameters, parameter("ext", "path", "The format.")]
        return {
            "get": {
                "tags": ["downloads"],
                "summary": summary,
                "parameters": every,
                "responses": responses,
            }
        }

    since = "Observations whose phenomenonTime starts at or after this instant."
    until = "Observations whose phenomenonTime starts before this instant."
    return {
        PREFIX + "/collections/{slug}.{ext}": operation(
            "A feature collection as CSV, GeoJSON or Parquet",
            parameter(
                "slug",
                "path",
                "The collection's slug; `sensors`: every Thing with a Location, with the "
                "latest value of each of its Datastreams.",
            ),
        ),
        PREFIX + "/datastreams/{id}.{ext}": operation(
            "A Datastream's Observations as CSV, GeoJSON or Parquet",
            parameter("id", "path", "The Datastream's @iot.id."),
            parameter("from", "query", since, format="date-time"),
            parameter("to", "query", until, format="date-time"),
        ),
        PREFIX + "/multidatastreams/{id}.{ext}": operation(
            "A MultiDatastream's Observations as CSV, GeoJSON or Parquet: one column per "
            "component, named after its ObservedProperty",
            parameter("id", "path", "The MultiDatastream's @iot.id."),
            parameter("from", "query", since, format="date-time"),
            parameter("to", "query", until, format="date-time"),
        ),
    }
