"""Putting datasets, collections and features into a hub's store for the face's tests.

Places in Solingen (around 51.17 N, 7.08 E), of our own making.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from cityhub.store import schema


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def box(min_x: float, min_y: float, max_x: float, max_y: float) -> dict[str, Any]:
    ring = [[min_x, min_y], [max_x, min_y], [max_x, max_y], [min_x, max_y], [min_x, min_y]]
    return {"type": "Polygon", "coordinates": [ring]}


def add_dataset(hub: Any, slug: str, visibility: str = "public") -> int:
    now = datetime.now(UTC)
    row = {
        "slug": slug,
        "title": slug.title(),
        "licence": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
        "keywords": ["Solingen"],
        "themes": [],
        "visibility": visibility,
        "created_at": now,
        "modified_at": now,
    }
    return _insert(hub, schema.datasets, row)


def add_collection(hub: Any, dataset: int, slug: str, title: str | None = None) -> int:
    now = datetime.now(UTC)
    row = {
        "slug": slug,
        "dataset_id": dataset,
        "title": title or slug.title(),
        "description": f"{slug} in Solingen",
        "created_at": now,
        "modified_at": now,
    }
    return _insert(hub, schema.collections, row)


def add_features(hub: Any, collection: int, features: list[dict[str, Any]]) -> list[int]:
    """Features given as ``{"geometry", "properties", "start", "end", "thing_id", "key"}``."""
    now = datetime.now(UTC)
    rows = [
        {
            "collection_id": collection,
            "key": feature.get("key"),
            "properties": feature.get("properties", {}),
            "geom": _geojson(feature.get("geometry")),
            "time_start": feature.get("start"),
            "time_end": feature.get("end"),
            "thing_id": feature.get("thing_id"),
            "created_at": now,
            "modified_at": now,
        }
        for feature in features
    ]

    def write(connection: Any) -> list[int]:
        return [
            connection.execute(
                insert(schema.features).returning(schema.features.c.id), row
            ).scalar_one()
            for row in rows
        ]

    return hub.store.write_blocking(write)


def _geojson(geometry: dict[str, Any] | None) -> str | None:
    import orjson

    return None if geometry is None else orjson.dumps(geometry).decode()


def _insert(hub: Any, table: Any, row: dict[str, Any]) -> int:
    return hub.store.write_blocking(
        lambda connection: connection.execute(insert(table).returning(table.c.id), row).scalar_one()
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
