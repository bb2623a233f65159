"""Helpers of the screen tests: Things with Datastreams created through the SensorThings API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

#: Every tile type a screen offers.
TILE_TYPES = {"departures", "parking", "weather", "uv", "water", "air", "map", "ticker", "qr"}


def create_sensor(hub: Any, name: str, unit: str = "", dataset: str | None = None) -> int:
    """A Thing with one Datastream named ``name``; its Datastream's id."""
    body: dict[str, Any] = {
        "name": f"Station {name}",
        "description": "test station",
        "Locations": [
            {
                "name": "here",
                "description": "test",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [7.08, 51.17]},
            }
        ],
        "Datastreams": [
            {
                "name": name,
                "description": name,
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": unit, "symbol": unit, "definition": ""},
                "Sensor": {
                    "name": f"sensor {name}",
                    "description": "s",
                    "encodingType": "text/plain",
                    "metadata": "s",
                },
                "ObservedProperty": {"name": name, "definition": "urn:x", "description": name},
            }
        ],
    }
    if dataset is not None:
        body["properties"] = {"dataset": dataset}
    created = hub.post("/v1.1/Things", json=body)
    assert created.status_code == 201, created.text
    thing = created.headers["location"].rsplit("/", 1)[1]
    streams = hub.get(f"/v1.1/{thing}/Datastreams", headers=hub.admin).json()
    return streams["value"][0]["@iot.id"]


def observe(hub: Any, datastream: int, result: float, minutes_ago: float = 0) -> None:
    time = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    response = hub.post(
        f"/v1.1/Datastreams({datastream})/Observations",
        json={"phenomenonTime": time.isoformat(), "result": result},
    )
    assert response.status_code == 201, response.text


def create_dataset(hub: Any, slug: str, visibility: str = "public") -> None:
    """A dataset ``slug`` of the organization 'werk' (created with the first dataset)."""
    if hub.get("/api/admin/organizations/werk", headers=hub.admin).status_code == 404:
        organization = {"slug": "werk", "name": "Stadtwerke"}
        assert hub.post("/api/admin/organizations", json=organization).status_code == 201
    dataset = {
        "slug": slug,
        "title": slug.title(),
        "organization": "werk",
        "licence": "dl-by-de/2.0",
        "visibility": visibility,
    }
    created = hub.post("/api/admin/datasets", json=dataset)
    assert created.status_code == 201, created.text
