"""Small helpers creating SensorThings test data through the API (deep insert)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import httpx

V = "/v1.1"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
OBSERVATION = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation"
OBSERVATION_TYPE = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"


def created_id(response: httpx.Response) -> int:
    """The ``@iot.id`` of a 201 response, failing with the body when it is not one."""
    assert response.status_code == 201, response.text
    entity_id = response.json()["@iot.id"]
    assert isinstance(entity_id, int)
    return entity_id


def ids(response: httpx.Response) -> list[int]:
    """The ``@iot.id`` of each entity of a 200 collection response, in order."""
    assert response.status_code == 200, response.text
    return [item["@iot.id"] for item in response.json()["value"]]


def all_ids(hub: Any, url: str, headers: dict[str, str] | None = None) -> list[int]:
    """The ``@iot.id`` of every entity of a collection by id, following ``@iot.nextLink``s."""
    found: list[int] = []
    params: dict[str, str] | None = {"$orderby": "id"}
    while url:
        response = hub.get(url, params=params, headers=headers)
        found += ids(response)
        url = response.json().get("@iot.nextLink", "").removeprefix("http://testserver")
        params = None
    return found


def location_body(name: str = "Rathaus", coordinates: tuple[float, float] = (7.6, 51.96)) -> dict:
    return {
        "name": name,
        "description": f"location {name}",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": list(coordinates)},
    }


def feature_body(name: str, coordinates: tuple[float, float]) -> dict:
    """A FeatureOfInterest at a point."""
    return {
        "name": name,
        "description": f"feature {name}",
        "encodingType": "application/geo+json",
        "feature": {"type": "Point", "coordinates": list(coordinates)},
    }


def datastream_body(
    name: str,
    observations: list[dict[str, Any]] | None = None,
    observation_type: str = MEASUREMENT,
    **extra: Any,
) -> dict:
    """A Datastream with a new Sensor and ObservedProperty (and inline Observations)."""
    body: dict[str, Any] = {
        "name": name,
        "description": f"datastream {name}",
        "unitOfMeasurement": {"name": "degree Celsius", "symbol": "degC", "definition": "ucum:Cel"},
        "observationType": observation_type,
        "Sensor": {
            "name": f"sensor of {name}",
            "description": "a sensor",
            "encodingType": "application/pdf",
            "metadata": "https://example.org/sensor.pdf",
        },
        "ObservedProperty": {
            "name": f"property of {name}",
            "definition": f"https://example.org/def/{name}",
            "description": "an observed property",
        },
        **extra,
    }
    if observations is not None:
        body["Observations"] = observations
    return body


def multi_datastream_body(
    name: str, observations: list[dict[str, Any]] | None = None, **extra: Any
) -> dict:
    """A MultiDatastream of temperature and humidity with a new Sensor and ObservedProperties
    (and inline Observations, whose results are pairs)."""
    body: dict[str, Any] = {
        "name": name,
        "description": f"multi datastream {name}",
        "unitOfMeasurements": [{"name": "degree Celsius", "symbol": "degC"}, {"name": "percent"}],
        "observationType": OBSERVATION_TYPE + "OM_ComplexObservation",
        "multiObservationDataTypes": [MEASUREMENT, MEASUREMENT],
        "Sensor": {
            "name": f"sensor of {name}",
            "description": "a sensor",
            "encodingType": "application/pdf",
            "metadata": "https://example.org/sensor.pdf",
        },
        "ObservedProperties": [
            {
                "name": f"{part} of {name}",
                "definition": f"https://example.org/def/{part}",
                "description": "an observed property",
            }
            for part in ("temperature", "humidity")
        ],
        **extra,
    }
    if observations is not None:
        body["Observations"] = observations
    return body


def observation(result: Any, time: str, **extra: Any) -> dict:
    """An Observation body with a result and a phenomenonTime."""
    return {"result": result, "phenomenonTime": time, **extra}


@dataclass
class Seeded:
    """Ids of what :func:`create_thing` made; ``observations`` maps a Datastream id to its ids."""

    thing: int
    location: int
    datastreams: list[int] = field(default_factory=list)
    observations: dict[int, list[int]] = field(default_factory=dict)


def create_thing(
    hub: Any,
    name: str = "Weather station",
    datastreams: list[dict[str, Any]] | None = None,
    location: dict[str, Any] | None = None,
    **extra: Any,
) -> Seeded:
    """POST a Thing with one Location and the given Datastreams by deep insert; return ids.

    Datastreams default to one Datastream "temperature" with three Observations. Observation
    ids are listed per Datastream in creation order (the order of the bodies).
    """
    if datastreams is None:
        datastreams = [
            datastream_body(
                "temperature",
                [
                    observation(20.5, "2024-01-01T00:00:00Z"),
                    observation(21.0, "2024-01-01T01:00:00Z"),
                    observation(19.5, "2024-01-01T02:00:00Z"),
                ],
            )
        ]
    body = {
        "name": name,
        "description": f"thing {name}",
        "Locations": [location or location_body()],
        "Datastreams": datastreams,
        **extra,
    }
    thing_id = created_id(hub.post(f"{V}/Things", body))
    # Read as the admin: the Thing may be in a restricted dataset.
    location_ids = all_ids(hub, f"{V}/Things({thing_id})/Locations", hub.admin)
    seeded = Seeded(thing=thing_id, location=location_ids[0])
    seeded.datastreams = all_ids(hub, f"{V}/Things({thing_id})/Datastreams", hub.admin)
    for datastream_id in seeded.datastreams:
        url = f"{V}/Datastreams({datastream_id})/Observations"
        seeded.observations[datastream_id] = all_ids(hub, url, hub.admin)
    return seeded


def post_together(hub: Any, url: str, bodies: list[Any]) -> list[httpx.Response]:
    """POST every body at once while the writer is held, so that they are committed as one
    batch; then let the writer go."""
    gate: Future = Future()
    holding = threading.Event()

    def hold(connection: Any) -> Any:
        holding.set()
        return gate.result(timeout=30)

    blocker = hub.store._writer.submit(hold)
    assert holding.wait(timeout=10), "the writer did not start"

    async def post_all() -> list[httpx.Response]:
        tasks = [
            asyncio.ensure_future(hub.client.post(url, json=body, headers=hub.admin))
            for body in bodies
        ]
        try:
            for _ in range(1000):
                if hub.store._writer._queue.qsize() >= len(bodies):
                    break
                await asyncio.sleep(0.01)
        finally:
            gate.set_result(None)
        return await asyncio.gather(*tasks)

    responses = hub.portal.call(post_all)
    blocker.result(timeout=30)
    return responses
