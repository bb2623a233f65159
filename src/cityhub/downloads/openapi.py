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
        "404": {"description": "No such collection or Datastream the client may see."},
    }

    def path(name: str, description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "path",
            "required": True,
            "description": description,
            "schema": {"type": "string"} if name != "ext" else formats,
        }

    def time(name: str, description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": {"type": "string", "format": "date-time"},
        }

    return {
        PREFIX + "/collections/{slug}.{ext}": {
            "get": {
                "tags": ["downloads"],
                "summary": "A feature collection as CSV, GeoJSON or Parquet",
                "parameters": [
                    path("slug", "The collection's slug."),
                    path("ext", "The format."),
                ],
                "responses": responses,
            }
        },
        PREFIX + "/datastreams/{id}.{ext}": {
            "get": {
                "tags": ["downloads"],
                "summary": "A Datastream's Observations as CSV, GeoJSON or Parquet",
                "parameters": [
                    path("id", "The Datastream's @iot.id."),
                    path("ext", "The format."),
                    time("from", "Observations whose phenomenonTime starts at or after this."),
                    time("to", "Observations whose phenomenonTime starts before this."),
                ],
                "responses": responses,
            }
        },
    }
