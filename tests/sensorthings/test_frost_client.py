"""The real ``frost_sta_client`` library, unmodified, against a real hub served by uvicorn.

Each step goes through the client exactly as its documentation shows and asserts what the
server answered (by reading it back with the client or with plain HTTP). Writes authenticate
with a bearer token through the client's own extension point, an ``AuthHandler`` subclass.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import frost_sta_client as fsc
import httpx
import pytest
import requests
import uvicorn
from geojson import Point

from cityhub.app import create_app
from cityhub.settings import Settings
from conftest import ADMIN_TOKEN

from .helpers import MEASUREMENT

# The client's own dependency (furl) warns about an API the client still uses.
pytestmark = pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")


class BearerToken(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer <token>`` to every request the client sends."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class BearerAuthHandler(fsc.AuthHandler):
    """The client accepts any ``AuthHandler``; this one hands ``requests`` a bearer token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def add_auth_header(self) -> requests.auth.AuthBase:
        return BearerToken(self.token)


class ServedHub:
    """The hub served by uvicorn on a free port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1.1"
        config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.listener]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("the hub did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.listener.close()


@pytest.fixture
def served(backend_settings: Settings) -> Iterator[ServedHub]:
    hub = ServedHub(backend_settings)
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def service(served: ServedHub) -> fsc.SensorThingsService:
    return fsc.SensorThingsService(served.url, auth_handler=BearerAuthHandler(ADMIN_TOKEN))


def raw(served: ServedHub, path: str, **params: Any) -> dict[str, Any]:
    """The server's JSON for ``path``, read with plain HTTP to check what the client wrote."""
    response = httpx.get(f"{served.url}/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def new_datastream(service: fsc.SensorThingsService, thing: fsc.Thing, name: str) -> fsc.Datastream:
    """A Sensor, an ObservedProperty and a Datastream linking them to ``thing``, each created."""
    sensor = fsc.Sensor(
        name=f"sensor {name}",
        description="a thermometer",
        encoding_type="application/pdf",
        metadata="https://example.org/thermometer.pdf",
    )
    observed_property = fsc.ObservedProperty(
        name=f"property {name}",
        definition=f"https://example.org/def/{name}",
        description="air temperature",
    )
    service.create(sensor)
    service.create(observed_property)
    datastream = fsc.Datastream(
        name=name,
        description=f"{name} at the town hall",
        observation_type=MEASUREMENT,
        unit_of_measurement=fsc.UnitOfMeasurement(
            name="degree Celsius",
            symbol="degC",
            definition="http://unitsofmeasure.org/ucum.html#Cel",
        ),
        thing=thing,
        sensor=sensor,
        observed_property=observed_property,
    )
    service.create(datastream)
    return datastream


def new_thing(service: fsc.SensorThingsService, name: str) -> fsc.Thing:
    location = fsc.Location(
        name=f"{name} place",
        description="in front of the town hall",
        location=Point((7.6261, 51.9625)),
        encoding_type="application/geo+json",
    )
    thing = fsc.Thing(name=name, description=f"thing {name}", properties={"owner": "city"})
    thing.locations = [location]
    service.create(thing)
    return thing


def test_create_a_thing_with_its_location_and_a_datastream(served, service):
    thing = new_thing(service, "Weather station")
    assert isinstance(thing.id, int)
    stored = raw(served, f"Things({thing.id})", **{"$expand": "Locations,HistoricalLocations"})
    assert stored["name"] == "Weather station"
    assert stored["properties"] == {"owner": "city"}
    assert stored["Locations"][0]["location"]["coordinates"] == [7.6261, 51.9625]
    assert len(stored["HistoricalLocations"]) == 1

    datastream = new_datastream(service, thing, "air temperature")
    assert isinstance(datastream.id, int)
    stored = raw(
        served, f"Datastreams({datastream.id})", **{"$expand": "Thing,Sensor,ObservedProperty"}
    )
    assert stored["Thing"]["@iot.id"] == thing.id
    assert stored["Sensor"]["name"] == "sensor air temperature"
    assert stored["ObservedProperty"]["definition"] == "https://example.org/def/air temperature"
    assert stored["unitOfMeasurement"]["symbol"] == "degC"


def test_create_observations_inline_link_and_by_id(served, service):
    thing = new_thing(service, "Station")
    datastream = new_datastream(service, thing, "temperature")
    first = fsc.Observation(
        result=21.5, phenomenon_time="2024-05-01T12:00:00+02:00", datastream=datastream
    )
    service.create(first)
    # Linked by id alone, as a client holding only the Datastream's id would.
    by_id = fsc.Datastream(id=datastream.id)
    second = fsc.Observation(result=22, phenomenon_time="2024-05-01T13:00:00Z", datastream=by_id)
    service.create(second)
    assert isinstance(first.id, int)
    assert isinstance(second.id, int)
    assert first.id != second.id

    stored = raw(served, f"Datastreams({datastream.id})/Observations", **{"$orderby": "id"})
    assert [o["result"] for o in stored["value"]] == [21.5, 22]
    assert stored["value"][0]["phenomenonTime"] == "2024-05-01T10:00:00Z"
    found = service.observations().find(first.id)
    assert found.result == 21.5
    feature = raw(served, f"Observations({first.id})/FeatureOfInterest")
    assert feature["feature"]["coordinates"] == [7.6261, 51.9625]


def test_link_a_new_datastream_to_an_existing_thing_and_a_location(served, service):
    thing = new_thing(service, "Existing")
    found = service.things().find(thing.id)
    datastream = new_datastream(service, found, "humidity")
    assert raw(served, f"Datastreams({datastream.id})/Thing")["@iot.id"] == thing.id

    # POST Things(1)/Locations with only an id: links the existing Location.
    other = fsc.Location(
        name="depot",
        description="the depot",
        location=Point((7.6, 51.9)),
        encoding_type="application/geo+json",
    )
    service.create(other)
    response = service.execute(
        "post", f"{served.url}/Things({thing.id})/Locations", json={"@iot.id": other.id}
    )
    assert response.status_code == 201
    locations = thing.get_locations().query().list()
    assert [location.id for location in locations] == [other.id]
    assert len(thing.get_historical_locations().query().list().entities) == 2


def test_update_with_put_and_patch(served, service):
    thing = new_thing(service, "Before")
    found = service.things().find(thing.id)
    found.name = "After"
    found.description = "renamed by PUT"
    service.update(found)
    stored = raw(served, f"Things({thing.id})")
    assert (stored["name"], stored["description"]) == ("After", "renamed by PUT")
    assert stored["properties"] == {"owner": "city"}

    service.patch(
        found,
        [
            {"op": "replace", "path": "/description", "value": "patched"},
            {"op": "add", "path": "/properties/floor", "value": 2},
        ],
    )
    stored = raw(served, f"Things({thing.id})")
    assert stored["description"] == "patched"
    assert stored["name"] == "After"
    assert stored["properties"] == {"owner": "city", "floor": 2}


def test_update_of_an_observation_keeps_its_datastream(served, service):
    thing = new_thing(service, "Station")
    datastream = new_datastream(service, thing, "temperature")
    observation = fsc.Observation(
        result=1.0, phenomenon_time="2024-05-01T12:00:00Z", datastream=datastream
    )
    service.create(observation)
    found = service.observations().find(observation.id)
    found.result = 2.5
    service.update(found)
    stored = raw(served, f"Observations({observation.id})", **{"$expand": "Datastream"})
    assert stored["result"] == 2.5
    assert stored["Datastream"]["@iot.id"] == datastream.id

    # A Datastream read back carries server-derived times and area; PUT keeps them derived.
    found_datastream = service.datastreams().find(datastream.id)
    assert found_datastream.observed_area is not None
    found_datastream.description = "re-described"
    service.update(found_datastream)
    stored = raw(served, f"Datastreams({datastream.id})")
    assert stored["description"] == "re-described"
    assert stored["phenomenonTime"] == "2024-05-01T12:00:00Z/2024-05-01T12:00:00Z"
    assert stored["observedArea"]["coordinates"] == [7.6261, 51.9625]


def test_query_with_filter_expand_top_and_count(served, service):
    for name in ("x", "y"):
        thing = new_thing(service, name)
        new_datastream(service, thing, f"temperature {name}")
    things = (
        service.things()
        .query()
        .filter("name eq 'x'")
        .expand("Datastreams($select=name),Locations")
        .top(5)
        .count()
        .list()
    )
    assert things.count == 1
    [thing] = things.entities
    assert thing.name == "x"
    assert [d.name for d in thing.datastreams] == ["temperature x"]
    assert thing.locations.entities[0].name == "x place"
    datastreams = thing.get_datastreams().query().list()
    assert [d.name for d in datastreams] == ["temperature x"]


def test_iterating_an_expanded_collection_follows_its_next_link(served, service):
    thing = new_thing(service, "Station")
    for name in ("b humidity", "a temperature", "c wind"):
        new_datastream(service, thing, name)
    [found] = (
        service.things()
        .query()
        .expand("Datastreams($orderby=name asc;$select=name;$top=2)")
        .list()
        .entities
    )
    assert [d.name for d in found.datastreams.entities] == ["a temperature", "b humidity"]
    assert found.datastreams.next_link is not None
    assert [d.name for d in found.datastreams] == ["a temperature", "b humidity", "c wind"]


def test_putting_back_an_expanded_thing_moves_nothing(served, service):
    thing = new_thing(service, "Station")
    [found] = service.things().query().expand("Locations").list().entities
    found.description = "same place"
    service.update(found)
    assert raw(served, f"Things({thing.id})")["description"] == "same place"
    assert len(thing.get_historical_locations().query().list().entities) == 1


def test_paging_through_next_links(served, service):
    thing = new_thing(service, "Station")
    datastream = new_datastream(service, thing, "temperature")
    for minute in range(7):
        service.create(
            fsc.Observation(
                result=float(minute),
                phenomenon_time=f"2024-05-01T12:{minute:02d}:00Z",
                datastream=datastream,
            )
        )
    observations = (
        datastream.get_observations().query().orderby("phenomenonTime", "asc").top(3).count().list()
    )
    assert observations.count == 7
    assert observations.next_link is not None
    assert [o.result for o in observations] == [float(m) for m in range(7)]
    assert observations.next_link is None


def test_delete_cascades_as_the_client_sees_it(served, service):
    thing = new_thing(service, "Short-lived")
    datastream = new_datastream(service, thing, "temperature")
    service.create(
        fsc.Observation(result=1.0, phenomenon_time="2024-05-01T12:00:00Z", datastream=datastream)
    )
    service.delete(thing)
    with pytest.raises(requests.HTTPError) as missing:
        service.things().find(thing.id)
    assert missing.value.response.status_code == 404
    assert service.datastreams().query().list().entities == []
    assert service.observations().query().list().entities == []
    assert len(service.locations().query().list().entities) == 1


def test_writes_without_the_token_are_refused(served):
    anonymous = fsc.SensorThingsService(served.url)
    with pytest.raises(requests.HTTPError) as refused:
        anonymous.create(fsc.Thing(name="nobody", description="no token"))
    assert refused.value.response.status_code == 401
    assert raw(served, "Things")["value"] == []


def test_a_rejected_write_reaches_the_client_with_the_reason(served, service):
    thing = new_thing(service, "Station")
    datastream = new_datastream(service, thing, "temperature")
    wrong = fsc.Observation(
        result="warm", phenomenon_time="2024-05-01T12:00:00Z", datastream=datastream
    )
    with pytest.raises(requests.HTTPError) as rejected:
        service.create(wrong)
    response = rejected.value.response
    assert response.status_code == 400
    assert "result" in response.json()["message"]
    assert wrong.id is None
    assert raw(served, "Observations")["value"] == []
