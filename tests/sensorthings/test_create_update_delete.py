"""Conformance class create-update-delete (OGC 18-088 clause 10), on SQLite and PostgreSQL.

Every write goes through real HTTP with the admin token; the database is counted directly
where a test is about what a request leaves behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from cityhub.sensorthings.model import OBSERVATION_TYPE_BASE
from cityhub.store import schema

V = "/v1.1"
BASE = "http://testserver/v1.1"

# --- data helpers ---------------------------------------------------------------------------


def thing(name: str = "Weather station", **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": "On the town hall roof", **extra}


def location(lon: float = 7.08, lat: float = 51.17, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"Place {lon} {lat}",
        "description": "A place in town",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [lon, lat]},
        **extra,
    }


def sensor(name: str = "DHT22", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Temperature and humidity sensor",
        "encodingType": "application/pdf",
        "metadata": "https://example.org/dht22.pdf",
        **extra,
    }


def observed_property(name: str = "Air temperature", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "definition": "http://vocab.nerc.ac.uk/standard_name/air_temperature/",
        "description": "Temperature of the air",
        **extra,
    }


def datastream(observation_type: str = "OM_Measurement", **extra: Any) -> dict[str, Any]:
    return {
        "name": "Air temperature",
        "description": "Air temperature on the roof",
        "unitOfMeasurement": {
            "name": "degree Celsius",
            "symbol": "°C",
            "definition": "http://unitsofmeasure.org/ucum.html#para-30",
        },
        "observationType": OBSERVATION_TYPE_BASE + observation_type,
        "Sensor": sensor(),
        "ObservedProperty": observed_property(),
        **extra,
    }


def feature(lon: float = 7.1, lat: float = 51.2) -> dict[str, Any]:
    return {
        "name": "Town square",
        "description": "The square in front of the town hall",
        "encodingType": "application/geo+json",
        "feature": {"type": "Point", "coordinates": [lon, lat]},
    }


def observation(result: Any = 21.5, time: str | None = "2024-05-01T12:00:00Z", **extra: Any):
    body: dict[str, Any] = {"result": result, **extra}
    if time is not None:
        body["phenomenonTime"] = time
    return body


def created(response: Any) -> int:
    assert response.status_code == 201, response.text
    return response.json()["@iot.id"]


def get_json(hub: Any, path: str) -> Any:
    response = hub.get(f"{V}/{path}")
    assert response.status_code == 200, response.text
    return response.json()


def ids(hub: Any, path: str) -> list[int]:
    return sorted(item["@iot.id"] for item in get_json(hub, path)["value"])


def new_thing_with_datastream(
    hub: Any, observation_type: str = "OM_Measurement", with_location: bool = True
) -> tuple[int, int]:
    """A Thing (with one Location unless told otherwise) and one Datastream of it."""
    body = thing(Datastreams=[datastream(observation_type)])
    if with_location:
        body["Locations"] = [location()]
    thing_id = created(hub.post(f"{V}/Things", body))
    [datastream_id] = ids(hub, f"Things({thing_id})/Datastreams")
    return thing_id, datastream_id


ENTITY_TABLES = {
    "Things": schema.things,
    "Locations": schema.locations,
    "HistoricalLocations": schema.historical_locations,
    "Sensors": schema.sensors,
    "ObservedProperties": schema.observed_properties,
    "Datastreams": schema.datastreams,
    "Observations": schema.observations,
    "FeaturesOfInterest": schema.features_of_interest,
    "thing_locations": schema.thing_locations,
    "historical_location_locations": schema.historical_location_locations,
}


def counts(hub: Any) -> dict[str, int]:
    """Rows of every entity set and link table, straight from the database."""

    def work(connection: Any) -> dict[str, int]:
        return {
            name: connection.scalar(select(func.count()).select_from(table))
            for name, table in ENTITY_TABLES.items()
        }

    return hub.store.read_blocking(work)


def assert_error(response: Any, status: int, *fragments: str) -> str:
    """The error shape of the hub, with a message naming what is wrong."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "type", "message"}
    assert body["code"] == status
    assert body["type"] == "error"
    message = body["message"]
    assert isinstance(message, str)
    for fragment in fragments:
        assert fragment in message, message
    return message


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- create ---------------------------------------------------------------------------------


@pytest.fixture
def graph(hub: Any) -> dict[str, int]:
    """One of each entity, created by deep insert: ids by entity type."""
    thing_id, datastream_id = new_thing_with_datastream(hub)
    observation_id = created(
        hub.post(f"{V}/Datastreams({datastream_id})/Observations", observation())
    )
    return {
        "Thing": thing_id,
        "Datastream": datastream_id,
        "Observation": observation_id,
        "Location": ids(hub, f"Things({thing_id})/Locations")[0],
        "HistoricalLocation": ids(hub, f"Things({thing_id})/HistoricalLocations")[0],
        "Sensor": get_json(hub, f"Datastreams({datastream_id})/Sensor")["@iot.id"],
        "ObservedProperty": get_json(hub, f"Datastreams({datastream_id})/ObservedProperty")[
            "@iot.id"
        ],
        "FeatureOfInterest": get_json(hub, f"Observations({observation_id})/FeatureOfInterest")[
            "@iot.id"
        ],
    }


def _bodies(graph: dict[str, int]) -> dict[str, dict[str, Any]]:
    linked = {k: {"@iot.id": v} for k, v in graph.items()}
    plain_datastream = datastream(Thing=linked["Thing"])
    plain_datastream["Sensor"] = linked["Sensor"]
    plain_datastream["ObservedProperty"] = linked["ObservedProperty"]
    return {
        "Things": thing(properties={"floor": 3}),
        "Locations": location(9.5, 52.1),
        "HistoricalLocations": {
            "time": "2024-05-01T10:00:00Z",
            "Thing": linked["Thing"],
            "Locations": [linked["Location"]],
        },
        "Sensors": sensor(properties={"vendor": "Aosong"}),
        "ObservedProperties": observed_property(),
        "Datastreams": plain_datastream,
        "Observations": observation(
            3.25,
            Datastream=linked["Datastream"],
            FeatureOfInterest=linked["FeatureOfInterest"],
            resultTime="2024-05-01T12:00:01Z",
            parameters={"battery": 3.1},
        ),
        "FeaturesOfInterest": feature(),
    }


@pytest.mark.parametrize(
    "entity_set",
    [
        "Things",
        "Locations",
        "HistoricalLocations",
        "Sensors",
        "ObservedProperties",
        "Datastreams",
        "Observations",
        "FeaturesOfInterest",
    ],
)
def test_post_creates_every_entity_type(hub, graph, entity_set):
    body = _bodies(graph)[entity_set]
    response = hub.post(f"{V}/{entity_set}", body)
    new_id = created(response)
    url = f"{BASE}/{entity_set}({new_id})"
    assert response.headers["Location"] == url
    answer = response.json()
    assert answer["@iot.selfLink"] == url
    for key, value in body.items():
        if key not in answer:
            assert isinstance(value, list | dict), key  # a relation: links, not properties
            continue
        assert answer[key] == value, key
    assert hub.get(url).json() == answer


def test_post_answers_with_computed_properties(hub, graph):
    response = hub.post(f"{V}/Datastreams({graph['Datastream']})/Observations", {"result": 1})
    body = response.json()
    assert response.status_code == 201
    assert body["result"] == 1
    assert body["phenomenonTime"] is not None
    assert body["resultTime"] is None


def test_deep_insert_thing_with_locations_and_datastreams(hub):
    body = thing(
        Locations=[location()],
        Datastreams=[
            datastream(Observations=[observation(20.5), observation(21.0, "2024-05-01T13:00:00Z")]),
            datastream("OM_CountObservation", Observations=[observation(4)]),
        ],
    )
    thing_id = created(hub.post(f"{V}/Things", body))
    assert counts(hub) == {
        "Things": 1,
        "Locations": 1,
        "HistoricalLocations": 1,
        "Sensors": 2,
        "ObservedProperties": 2,
        "Datastreams": 2,
        "Observations": 3,
        "FeaturesOfInterest": 1,
        "thing_locations": 1,
        "historical_location_locations": 1,
    }
    datastream_ids = ids(hub, f"Things({thing_id})/Datastreams")
    results = [
        sorted(o["result"] for o in get_json(hub, f"Datastreams({i})/Observations")["value"])
        for i in datastream_ids
    ]
    assert results == [[20.5, 21.0], [4]]
    [foi] = get_json(hub, "FeaturesOfInterest")["value"]
    assert foi["feature"] == location()["location"]


def test_deep_insert_derives_features_whatever_the_key_order(hub):
    # Datastreams come before Locations in the body: the Observations still find the Location.
    body = {
        **thing(),
        "Datastreams": [datastream(Observations=[observation()])],
        "Locations": [location(8.0, 50.0)],
    }
    thing_id = created(hub.post(f"{V}/Things", body))
    [datastream_id] = ids(hub, f"Things({thing_id})/Datastreams")
    [obs] = get_json(hub, f"Datastreams({datastream_id})/Observations")["value"]
    derived = get_json(hub, f"Observations({obs['@iot.id']})/FeatureOfInterest")
    assert derived["feature"]["coordinates"] == [8.0, 50.0]


def test_deep_insert_observation_with_feature_of_interest(hub):
    _, datastream_id = new_thing_with_datastream(hub, with_location=False)
    body = observation(FeatureOfInterest=feature(6.9, 50.9))
    obs_id = created(hub.post(f"{V}/Datastreams({datastream_id})/Observations", body))
    foi = get_json(hub, f"Observations({obs_id})/FeatureOfInterest")
    assert foi["name"] == "Town square"
    assert foi["feature"]["coordinates"] == [6.9, 50.9]
    assert ids(hub, f"FeaturesOfInterest({foi['@iot.id']})/Observations") == [obs_id]


def test_deep_insert_location_with_things(hub):
    existing = created(hub.post(f"{V}/Things", thing("Existing")))
    body = location(Things=[thing("New"), {"@iot.id": existing}])
    location_id = created(hub.post(f"{V}/Locations", body))
    thing_ids = ids(hub, f"Locations({location_id})/Things")
    assert len(thing_ids) == 2
    assert existing in thing_ids
    for thing_id in thing_ids:
        [history] = get_json(hub, f"Things({thing_id})/HistoricalLocations")["value"]
        assert ids(hub, f"HistoricalLocations({history['@iot.id']})/Locations") == [location_id]


def test_link_by_id_and_inline_object_with_id_is_a_link(hub):
    thing_id = created(hub.post(f"{V}/Things", thing()))
    sensor_id = created(hub.post(f"{V}/Sensors", sensor("Original")))
    property_id = created(hub.post(f"{V}/ObservedProperties", observed_property()))
    before = counts(hub)
    body = datastream(
        Thing={"@iot.id": thing_id},
        # frost_sta_client sends the whole entity it has, @iot.id included: that is a link.
        Sensor={**sensor("Renamed?"), "@iot.id": sensor_id},
        ObservedProperty={"@iot.id": property_id},
    )
    datastream_id = created(hub.post(f"{V}/Datastreams", body))
    assert get_json(hub, f"Datastreams({datastream_id})/Thing")["@iot.id"] == thing_id
    linked = get_json(hub, f"Datastreams({datastream_id})/Sensor")
    assert linked["@iot.id"] == sensor_id
    assert linked["name"] == "Original"
    after = counts(hub)
    assert after["Sensors"] == before["Sensors"]
    assert after["ObservedProperties"] == before["ObservedProperties"]
    assert after["Datastreams"] == before["Datastreams"] + 1


@pytest.mark.parametrize(
    ("relation", "target"),
    [("Thing", "Thing"), ("Sensor", "Sensor"), ("ObservedProperty", "ObservedProperty")],
)
def test_link_to_missing_entity_is_400(hub, graph, relation, target):
    body = datastream(Thing={"@iot.id": graph["Thing"]})
    body[relation] = {"@iot.id": 9999}
    before = counts(hub)
    assert_error(hub.post(f"{V}/Datastreams", body), 400, target, "9999")
    assert counts(hub) == before


@pytest.mark.parametrize("link", ["one", 1.5, True, None, -1, 2**40, 2**70])
def test_link_with_impossible_id_is_400(hub, graph, link):
    body = observation(Datastream={"@iot.id": link})
    assert_error(hub.post(f"{V}/Observations", body), 400, "Datastream")


def test_location_with_altitude(hub):
    body = location(location={"type": "Point", "coordinates": [7.08, 51.17, 120.5]})
    location_id = created(hub.post(f"{V}/Locations", body))
    assert get_json(hub, f"Locations({location_id})")["location"]["coordinates"][2] == 120.5


def test_post_to_navigation_collections(hub, graph):
    thing_id = graph["Thing"]
    body = datastream()
    body["Sensor"] = {"@iot.id": graph["Sensor"]}
    body["ObservedProperty"] = {"@iot.id": graph["ObservedProperty"]}
    response = hub.post(f"{V}/Things({thing_id})/Datastreams", body)
    datastream_id = created(response)
    assert response.headers["Location"] == f"{BASE}/Datastreams({datastream_id})"
    assert get_json(hub, f"Datastreams({datastream_id})/Thing")["@iot.id"] == thing_id

    obs_id = created(hub.post(f"{V}/Datastreams({datastream_id})/Observations", observation(7)))
    assert ids(hub, f"Datastreams({datastream_id})/Observations") == [obs_id]

    location_id = created(hub.post(f"{V}/Things({thing_id})/Locations", location(8.5, 49.9)))
    assert ids(hub, f"Things({thing_id})/Locations") == [location_id]


def test_post_to_navigation_collection_of_missing_parent_is_404(hub, graph):
    before = counts(hub)
    assert_error(hub.post(f"{V}/Things(999)/Datastreams", datastream()), 404)
    assert counts(hub) == before


# --- historical locations -------------------------------------------------------------------


def _histories(hub: Any, thing_id: int) -> list[list[int]]:
    """The Location ids of each HistoricalLocation of a Thing, oldest first."""
    values = get_json(hub, f"Things({thing_id})/HistoricalLocations")["value"]
    values.sort(key=lambda h: (h["time"], h["@iot.id"]))
    return [ids(hub, f"HistoricalLocations({h['@iot.id']})/Locations") for h in values]


def test_post_thing_with_location_records_history(hub):
    started = datetime.now(UTC)
    thing_id = created(hub.post(f"{V}/Things", thing(Locations=[location()])))
    [location_id] = ids(hub, f"Things({thing_id})/Locations")
    assert _histories(hub, thing_id) == [[location_id]]
    [history] = get_json(hub, f"Things({thing_id})/HistoricalLocations")["value"]
    assert started <= instant(history["time"]) <= datetime.now(UTC)


def test_post_location_of_thing_replaces_and_records_history(hub):
    thing_id = created(hub.post(f"{V}/Things", thing(Locations=[location()])))
    [first] = ids(hub, f"Things({thing_id})/Locations")
    second = created(hub.post(f"{V}/Things({thing_id})/Locations", location(7.5, 51.5)))
    assert ids(hub, f"Things({thing_id})/Locations") == [second]
    assert _histories(hub, thing_id) == [[first], [second]]
    assert ids(hub, "Locations") == [first, second]  # the old Location stays


def test_patch_thing_locations_records_history(hub):
    thing_id = created(hub.post(f"{V}/Things", thing(Locations=[location()])))
    [first] = ids(hub, f"Things({thing_id})/Locations")
    other = created(hub.post(f"{V}/Locations", location(10.0, 53.5)))
    response = hub.patch(f"{V}/Things({thing_id})", {"Locations": [{"@iot.id": other}]})
    assert response.status_code == 200, response.text
    assert ids(hub, f"Things({thing_id})/Locations") == [other]
    assert _histories(hub, thing_id) == [[first], [other]]


def test_linking_the_current_locations_again_records_no_history(hub):
    thing_id = created(hub.post(f"{V}/Things", thing(Locations=[location()])))
    [first] = ids(hub, f"Things({thing_id})/Locations")
    same = {"Locations": [{"@iot.id": first}]}
    assert hub.patch(f"{V}/Things({thing_id})", same).status_code == 200
    assert hub.put(f"{V}/Things({thing_id})", {**thing(), **same}).status_code == 200
    assert hub.post(f"{V}/Things({thing_id})/Locations/$ref", {"@iot.id": first}).status_code == 204
    assert _histories(hub, thing_id) == [[first]]


def test_post_location_with_existing_thing_records_history(hub):
    thing_id = created(hub.post(f"{V}/Things", thing(Locations=[location()])))
    [first] = ids(hub, f"Things({thing_id})/Locations")
    moved = created(
        hub.post(f"{V}/Locations", location(11.0, 48.1, Things=[{"@iot.id": thing_id}]))
    )
    assert ids(hub, f"Things({thing_id})/Locations") == [moved]
    assert _histories(hub, thing_id) == [[first], [moved]]


# --- observations ---------------------------------------------------------------------------


def _foi_of(hub: Any, datastream_id: int, body: dict[str, Any]) -> dict[str, Any]:
    obs_id = created(hub.post(f"{V}/Datastreams({datastream_id})/Observations", body))
    return get_json(hub, f"Observations({obs_id})/FeatureOfInterest")


def test_feature_of_interest_derived_from_location_and_reused(hub):
    thing_id, datastream_id = new_thing_with_datastream(hub)
    first = _foi_of(hub, datastream_id, observation(1.0))
    assert first["feature"] == location()["location"]
    assert first["encodingType"] == "application/geo+json"
    second = _foi_of(hub, datastream_id, observation(2.0, "2024-05-01T13:00:00Z"))
    assert second["@iot.id"] == first["@iot.id"]
    assert counts(hub)["FeaturesOfInterest"] == 1

    [location_id] = ids(hub, f"Things({thing_id})/Locations")
    moved = {"location": {"type": "Point", "coordinates": [7.2, 51.3]}}
    assert hub.patch(f"{V}/Locations({location_id})", moved).status_code == 200
    third = _foi_of(hub, datastream_id, observation(3.0, "2024-05-01T14:00:00Z"))
    assert third["@iot.id"] != first["@iot.id"]
    assert third["feature"]["coordinates"] == [7.2, 51.3]
    # The earlier feature still describes where the earlier observations were made.
    kept = get_json(hub, f"FeaturesOfInterest({first['@iot.id']})")
    assert kept["feature"] == location()["location"]

    hub.post(f"{V}/Things({thing_id})/Locations", location(9.0, 52.0))
    fourth = _foi_of(hub, datastream_id, observation(4.0, "2024-05-01T15:00:00Z"))
    assert fourth["feature"]["coordinates"] == [9.0, 52.0]
    assert counts(hub)["FeaturesOfInterest"] == 3


def test_observation_without_feature_and_thing_without_location_is_400(hub):
    _, datastream_id = new_thing_with_datastream(hub, with_location=False)
    before = counts(hub)
    response = hub.post(f"{V}/Datastreams({datastream_id})/Observations", observation())
    assert_error(response, 400, "FeatureOfInterest", "Location")
    assert counts(hub) == before


def test_missing_phenomenon_time_is_server_time(hub, graph):
    path = f"{V}/Datastreams({graph['Datastream']})/Observations"
    started = datetime.now(UTC)
    plain = hub.post(path, {"result": 1.0}).json()
    with_result_time = hub.post(path, {"result": 2.0, "resultTime": "2001-01-01T00:00:00Z"}).json()
    finished = datetime.now(UTC)
    for body in (plain, with_result_time):
        assert started <= instant(body["phenomenonTime"]) <= finished
    assert with_result_time["resultTime"] == "2001-01-01T00:00:00Z"


RESULT_CASES = [
    ("OM_Measurement", [21.5, -3, 0], ["21.5", True, {"v": 1}]),
    ("OM_TruthObservation", [True, False], [1, "true"]),
    ("OM_CountObservation", [4, 0, -2], [4.5, True, "4"]),
    ("OM_CategoryObservation", ["http://example.org/category/sunny"], [3, False, ["a"]]),
    ("OM_Observation", [{"temperature": 21.5}, [1, "two", None], "text", 3.5, True], []),
]


@pytest.mark.parametrize(("observation_type", "good", "bad"), RESULT_CASES)
def test_result_type_follows_observation_type(hub, observation_type, good, bad):
    _, datastream_id = new_thing_with_datastream(hub, observation_type)
    path = f"{V}/Datastreams({datastream_id})/Observations"
    for value in good:
        obs_id = created(hub.post(path, observation(value)))
        assert get_json(hub, f"Observations({obs_id})")["result"] == value
    for value in bad:
        response = hub.post(path, observation(value))
        assert_error(response, 400, "result", observation_type)
    assert len(ids(hub, f"Datastreams({datastream_id})/Observations")) == len(good)


def test_patch_observation_result_must_fit_observation_type(hub, graph):
    response = hub.patch(f"{V}/Observations({graph['Observation']})", {"result": "warm"})
    assert_error(response, 400, "result", "OM_Measurement")
    assert get_json(hub, f"Observations({graph['Observation']})")["result"] == 21.5


def test_datastream_times_follow_its_observations(hub):
    _, datastream_id = new_thing_with_datastream(hub)
    path = f"{V}/Datastreams({datastream_id})/Observations"
    first = created(
        hub.post(path, observation(1.0, "2024-01-01T00:00:00Z", resultTime="2024-01-01T00:01:00Z"))
    )
    created(
        hub.post(
            path,
            observation(
                2.0,
                "2024-01-02T00:00:00Z/2024-01-02T06:00:00Z",
                resultTime="2024-01-02T06:01:00Z",
            ),
        )
    )
    last = created(
        hub.post(path, observation(3.0, "2024-01-03T00:00:00Z", resultTime="2024-01-03T00:01:00Z"))
    )

    def times() -> tuple[str | None, str | None]:
        body = get_json(hub, f"Datastreams({datastream_id})")
        return body["phenomenonTime"], body["resultTime"]

    assert times() == (
        "2024-01-01T00:00:00Z/2024-01-03T00:00:00Z",
        "2024-01-01T00:01:00Z/2024-01-03T00:01:00Z",
    )
    assert hub.delete(f"{V}/Observations({last})").status_code == 200
    assert times() == (
        "2024-01-01T00:00:00Z/2024-01-02T06:00:00Z",
        "2024-01-01T00:01:00Z/2024-01-02T06:01:00Z",
    )
    assert hub.delete(f"{V}/Observations({first})").status_code == 200
    assert times() == (
        "2024-01-02T00:00:00Z/2024-01-02T06:00:00Z",
        "2024-01-02T06:01:00Z/2024-01-02T06:01:00Z",
    )
    [remaining] = ids(hub, f"Datastreams({datastream_id})/Observations")
    patch = {"phenomenonTime": "2023-12-31T00:00:00Z"}
    assert hub.patch(f"{V}/Observations({remaining})", patch).status_code == 200
    assert times()[0] == "2023-12-31T00:00:00Z/2023-12-31T00:00:00Z"
    assert hub.delete(f"{V}/Observations({remaining})").status_code == 200
    assert times() == (None, None)


# --- update ---------------------------------------------------------------------------------


def test_patch_changes_only_the_given_properties(hub, graph):
    url = f"{V}/Things({graph['Thing']})"
    before = get_json(hub, f"Things({graph['Thing']})")
    response = hub.patch(url, {"description": "Moved to the library", "@iot.id": 777})
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "Moved to the library"
    after = get_json(hub, f"Things({graph['Thing']})")
    assert after == {**before, "description": "Moved to the library"}
    assert_error(hub.get(f"{V}/Things(777)"), 404)


def test_patch_with_inline_new_related_entity_is_400(hub, graph):
    before = counts(hub)
    response = hub.patch(f"{V}/Datastreams({graph['Datastream']})", {"Sensor": sensor("New")})
    assert_error(response, 400, "Sensor")
    assert counts(hub) == before


def test_patch_changes_a_link_by_id(hub, graph):
    other = created(hub.post(f"{V}/Sensors", sensor("Other")))
    url = f"{V}/Datastreams({graph['Datastream']})"
    assert hub.patch(url, {"Sensor": {"@iot.id": other}}).status_code == 200
    assert get_json(hub, f"Datastreams({graph['Datastream']})/Sensor")["@iot.id"] == other
    assert ids(hub, f"Sensors({graph['Sensor']})/Datastreams") == []
    assert_error(hub.patch(url, {"Sensor": {"@iot.id": 9999}}), 400, "Sensor", "9999")


def test_patch_links_to_a_collection_add_to_it(hub, graph):
    other_thing, other_datastream = new_thing_with_datastream(hub)
    url = f"{V}/Things({graph['Thing']})"
    response = hub.patch(url, {"Datastreams": [{"@iot.id": other_datastream}]})
    assert response.status_code == 200, response.text
    assert ids(hub, f"Things({graph['Thing']})/Datastreams") == [
        graph["Datastream"],
        other_datastream,
    ]
    assert ids(hub, f"Things({other_thing})/Datastreams") == []
    [other_location] = ids(hub, f"Things({other_thing})/Locations")
    history = f"{V}/HistoricalLocations({graph['HistoricalLocation']})"
    assert hub.patch(history, {"Locations": [{"@iot.id": other_location}]}).status_code == 200
    assert ids(hub, f"HistoricalLocations({graph['HistoricalLocation']})/Locations") == [
        graph["Location"],
        other_location,
    ]


def test_patch_sensor_encoding_type(hub, graph):
    url = f"{V}/Sensors({graph['Sensor']})"
    response = hub.patch(url, {"encodingType": "http://www.opengis.net/doc/IS/SensorML/2.0"})
    assert response.status_code == 200, response.text
    assert response.json()["encodingType"] == "http://www.opengis.net/doc/IS/SensorML/2.0"


def test_patch_validates_values(hub, graph):
    url = f"{V}/Datastreams({graph['Datastream']})"
    assert_error(hub.patch(url, {"observationType": "Measurement"}), 400, "observationType")
    assert_error(hub.patch(url, {"name": None}), 400, "name")
    location_url = f"{V}/Locations({graph['Location']})"
    assert_error(hub.patch(location_url, {"location": {"type": "Point"}}), 400, "location")
    assert get_json(hub, f"Datastreams({graph['Datastream']})")["observationType"] == (
        OBSERVATION_TYPE_BASE + "OM_Measurement"
    )


JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def json_patch(hub: Any, url: str, operations: Any) -> Any:
    return hub.patch(url, json=operations, headers=JSON_PATCH)


def test_json_patch_applies_operations_in_order(hub, graph):
    url = f"{V}/Things({graph['Thing']})"
    assert hub.patch(url, {"properties": {"floor": 3, "rooms": ["a", "b"]}}).status_code == 200
    response = json_patch(
        hub,
        url,
        [
            {"op": "test", "path": "/name", "value": "Weather station"},
            {"op": "replace", "path": "/description", "value": "Moved"},
            {"op": "add", "path": "/properties/owner", "value": "city"},
            {"op": "remove", "path": "/properties/floor"},
            {"op": "add", "path": "/properties/rooms/-", "value": "c"},
            {"op": "copy", "from": "/name", "path": "/properties/label"},
            {"op": "move", "from": "/properties/rooms/0", "path": "/properties/first"},
        ],
    )
    assert response.status_code == 200, response.text
    body = get_json(hub, f"Things({graph['Thing']})")
    assert body["description"] == "Moved"
    assert body["name"] == "Weather station"
    assert body["properties"] == {
        "owner": "city",
        "rooms": ["b", "c"],
        "label": "Weather station",
        "first": "a",
    }
    assert response.json()["properties"] == body["properties"]


def test_json_patch_keeps_the_rules_of_a_patch(hub, graph):
    url = f"{V}/Datastreams({graph['Datastream']})"
    response = json_patch(hub, url, [{"op": "replace", "path": "/observationType", "value": "x"}])
    assert_error(response, 400, "observationType")
    response = json_patch(hub, url, [{"op": "remove", "path": "/name"}])
    assert_error(response, 400, "name")
    location_url = f"{V}/Locations({graph['Location']})"
    moved = [{"op": "replace", "path": "/location/coordinates", "value": [8.0, 52.0]}]
    assert json_patch(hub, location_url, moved).status_code == 200
    assert get_json(hub, f"Locations({graph['Location']})")["location"]["coordinates"] == [8, 52]


def test_json_patch_tells_true_from_one(hub):
    _, datastream_id = new_thing_with_datastream(hub, "OM_Observation")
    url = f"{V}/Datastreams({datastream_id})/Observations"
    observation_id = created(hub.post(url, observation(1)))
    url = f"{V}/Observations({observation_id})"
    test_true = [{"op": "test", "path": "/result", "value": True}]
    assert_error(json_patch(hub, url, test_true), 409, "/result")
    to_true = [
        {"op": "test", "path": "/result", "value": 1.0},
        {"op": "replace", "path": "/result", "value": True},
    ]
    assert json_patch(hub, url, to_true).status_code == 200
    assert get_json(hub, f"Observations({observation_id})")["result"] is True


@pytest.mark.parametrize(
    ("operations", "status", "problem"),
    [
        ({"op": "replace"}, 400, "JSON array"),
        ([{"op": "rename", "path": "/name"}], 400, "'op'"),
        ([{"op": "replace", "path": "name", "value": "x"}], 400, "JSON Pointer"),
        ([{"op": "replace", "path": "/name"}], 400, "'value'"),
        ([{"op": "remove", "path": "/properties/missing"}], 400, "/properties/missing"),
        ([{"op": "add", "path": "/colour", "value": "red"}], 400, "colour"),
        ([{"op": "add", "path": "/Datastreams", "value": []}], 400, "Datastreams"),
        ([{"op": "test", "path": "/name", "value": "Other"}], 409, "/name"),
    ],
)
def test_bad_json_patch_changes_nothing(hub, graph, operations, status, problem):
    url = f"{V}/Things({graph['Thing']})"
    before = get_json(hub, f"Things({graph['Thing']})")
    first = [{"op": "replace", "path": "/description", "value": "changed"}]
    operations = first + operations if isinstance(operations, list) else operations
    assert_error(json_patch(hub, url, operations), status, problem)
    assert get_json(hub, f"Things({graph['Thing']})") == before


def test_json_patch_of_a_missing_entity_is_404_and_put_refuses_it(hub, graph):
    replace = [{"op": "replace", "path": "/name", "value": "x"}]
    assert_error(json_patch(hub, f"{V}/Things(404)", replace), 404, "Thing")
    response = hub.put(f"{V}/Things({graph['Thing']})", json=replace, headers=JSON_PATCH)
    assert_error(response, 415, "PUT")


def test_put_resets_omitted_optional_properties(hub):
    thing_id = created(hub.post(f"{V}/Things", thing(properties={"floor": 3})))
    response = hub.put(f"{V}/Things({thing_id})", {"name": "Renamed", "description": "New"})
    assert response.status_code == 200, response.text
    body = get_json(hub, f"Things({thing_id})")
    assert (body["name"], body["description"], body["properties"]) == ("Renamed", "New", None)


def test_put_ignores_an_id_in_the_body_and_keeps_links(hub, graph):
    url = f"{V}/Datastreams({graph['Datastream']})"
    body = {**datastream(), "@iot.id": 777, "name": "Replaced"}
    for relation in ("Sensor", "ObservedProperty"):
        body.pop(relation)
    response = hub.put(url, body)
    assert response.status_code == 200, response.text
    assert response.json()["@iot.id"] == graph["Datastream"]
    assert get_json(hub, f"Datastreams({graph['Datastream']})/Sensor")["@iot.id"] == graph["Sensor"]
    assert_error(hub.get(f"{V}/Datastreams(777)"), 404)


def test_put_with_an_inline_new_related_entity_is_400(hub, graph):
    before = counts(hub)
    body = {**datastream(), "Sensor": sensor("New")}
    response = hub.put(f"{V}/Datastreams({graph['Datastream']})", body)
    assert_error(response, 400, "Sensor")
    assert counts(hub) == before


def test_put_without_a_required_property_is_400(hub, graph):
    response = hub.put(f"{V}/Things({graph['Thing']})", {"name": "Only a name"})
    assert_error(response, 400, "description")
    assert get_json(hub, f"Things({graph['Thing']})")["name"] == "Weather station"


@pytest.mark.parametrize(
    ("entity_set", "key"),
    [("Sensors", "Sensor"), ("Locations", "Location"), ("Datastreams", "Datastream")],
)
def test_put_replaces_entities_with_more_properties(hub, graph, entity_set, key):
    body = {
        "Sensors": sensor("Replaced"),
        "Locations": location(7.3, 51.4, name="Replaced"),
        "Datastreams": {**datastream(), "name": "Replaced"},
    }[entity_set]
    for relation in ("Sensor", "ObservedProperty"):
        body.pop(relation, None)
    response = hub.put(f"{V}/{entity_set}({graph[key]})", body)
    assert response.status_code == 200, response.text
    assert get_json(hub, f"{entity_set}({graph[key]})")["name"] == "Replaced"


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_update_or_delete_of_unknown_entity_is_404(hub, method):
    if method == "DELETE":
        response = hub.delete(f"{V}/Things(404)")
    else:
        response = hub.request(method, f"{V}/Things(404)", json=thing(), headers=hub.admin)
    assert_error(response, 404, "Thing")


def _unrelated(hub: Any, graph: dict[str, int]) -> dict[str, int]:
    """A second Thing with its own Datastream and Location, related to nothing of ``graph``."""
    thing_id, datastream_id = new_thing_with_datastream(hub)
    [location_id] = ids(hub, f"Things({thing_id})/Locations")
    return {"Thing": thing_id, "Datastream": datastream_id, "Location": location_id}


@pytest.mark.parametrize(
    ("method", "address", "body", "status"),
    [
        # The address names nothing: 404, whatever the method.
        ("PATCH", "Things({Thing})/Datastreams({other_Datastream})", {"name": "x"}, 404),
        ("PUT", "Things({Thing})/Datastreams({other_Datastream})", {"name": "x"}, 404),
        ("DELETE", "Things({Thing})/Datastreams({other_Datastream})", None, 404),
        ("DELETE", "Things({Thing})/Locations({other_Location})/$ref", None, 404),
        ("POST", "Things(999)/Locations", {"@iot.id": "{Location}"}, 404),
        ("POST", "Things(999)/Locations/$ref", {"@iot.id": "{Location}"}, 404),
        ("PATCH", "Things(999)", {"name": "x"}, 404),
        # The body names something missing: 400.
        ("POST", "Things({Thing})/Locations/$ref", {"@iot.id": 999}, 400),
        ("POST", "Things({Thing})/Locations", {"@iot.id": 999}, 400),
        ("PATCH", "Things({Thing})", {"Locations": [{"@iot.id": 999}]}, 400),
        # The address is no place for the method: 405.
        ("PATCH", "Things({Thing})/name", {"name": "x"}, 405),
        ("POST", "Datastreams({Datastream})/Thing", thing(), 405),
        ("DELETE", "Things", None, 405),
    ],
)
def test_writes_to_addresses_that_name_nothing(hub, graph, method, address, body, status):
    other = {f"other_{k}": v for k, v in _unrelated(hub, graph).items()}
    names = {**graph, **other}
    url = f"{V}/" + address.format(**names)
    if isinstance(body, dict) and body.get("@iot.id") == "{Location}":
        body = {"@iot.id": graph["Location"]}
    before = counts(hub)
    assert_error(hub.request(method, url, json=body, headers=hub.admin), status)
    assert counts(hub) == before


# --- delete ---------------------------------------------------------------------------------


def _left(hub: Any) -> dict[str, int]:
    return {k: v for k, v in counts(hub).items() if v}


@pytest.mark.parametrize(
    ("key", "gone"),
    [
        ("Thing", {"Things", "Datastreams", "Observations", "HistoricalLocations"}),
        ("Sensor", {"Sensors", "Datastreams", "Observations"}),
        ("ObservedProperty", {"ObservedProperties", "Datastreams", "Observations"}),
        ("Datastream", {"Datastreams", "Observations"}),
        ("FeatureOfInterest", {"FeaturesOfInterest", "Observations"}),
        ("Location", {"Locations", "HistoricalLocations"}),
        ("Observation", {"Observations"}),
        ("HistoricalLocation", {"HistoricalLocations"}),
    ],
)
def test_delete_cascades_as_the_spec_says(hub, graph, key, gone):
    entity_set = {
        "Thing": "Things",
        "Sensor": "Sensors",
        "ObservedProperty": "ObservedProperties",
        "Datastream": "Datastreams",
        "FeatureOfInterest": "FeaturesOfInterest",
        "Location": "Locations",
        "Observation": "Observations",
        "HistoricalLocation": "HistoricalLocations",
    }[key]
    before = counts(hub)
    response = hub.delete(f"{V}/{entity_set}({graph[key]})")
    assert response.status_code == 200, response.text
    after = counts(hub)
    entity_sets = [k for k in ENTITY_TABLES if k[0].isupper()]
    for name in entity_sets:
        expected = 0 if name in gone else before[name]
        assert after[name] == expected, name
    assert_error(hub.get(f"{V}/{entity_set}({graph[key]})"), 404)
    assert_error(hub.delete(f"{V}/{entity_set}({graph[key]})"), 404)


def test_delete_feature_of_interest_updates_datastream_times(hub, graph):
    assert get_json(hub, f"Datastreams({graph['Datastream']})")["phenomenonTime"] is not None
    assert hub.delete(f"{V}/FeaturesOfInterest({graph['FeatureOfInterest']})").status_code == 200
    assert get_json(hub, f"Datastreams({graph['Datastream']})")["phenomenonTime"] is None


def test_delete_ref_removes_only_the_link(hub, graph):
    thing_id, location_id = graph["Thing"], graph["Location"]
    response = hub.delete(f"{V}/Things({thing_id})/Locations({location_id})/$ref")
    assert response.status_code == 200, response.text
    assert ids(hub, f"Things({thing_id})/Locations") == []
    assert get_json(hub, f"Locations({location_id})")["@iot.id"] == location_id
    assert get_json(hub, f"Things({thing_id})")["@iot.id"] == thing_id
    again = hub.delete(f"{V}/Things({thing_id})/Locations({location_id})/$ref")
    assert_error(again, 404)


def test_post_ref_adds_a_link(hub, graph):
    thing_id = graph["Thing"]
    other = created(hub.post(f"{V}/Locations", location(6.0, 50.0)))
    response = hub.post(f"{V}/Things({thing_id})/Locations/$ref", {"@iot.id": other})
    assert response.status_code in (200, 201, 204), response.text
    assert other in ids(hub, f"Things({thing_id})/Locations")
    assert ids(hub, f"Locations({other})/Things") == [thing_id]
    missing = hub.post(f"{V}/Things({thing_id})/Locations/$ref", {"@iot.id": 9999})
    assert_error(missing, 400, "9999")


def test_post_of_only_an_id_to_a_navigation_collection_links_it(hub, graph):
    thing_id = graph["Thing"]
    other = created(hub.post(f"{V}/Locations", location(6.5, 50.5)))
    histories_before = len(ids(hub, f"Things({thing_id})/HistoricalLocations"))
    response = hub.post(f"{V}/Things({thing_id})/Locations", {"@iot.id": other})
    assert response.status_code == 201, response.text
    assert response.json()["@iot.id"] == other
    assert ids(hub, f"Things({thing_id})/Locations") == [other]
    assert len(ids(hub, f"Things({thing_id})/HistoricalLocations")) == histories_before + 1
    locations = hub.get(f"{V}/Locations", params={"$count": "true", "$top": "0"}).json()
    assert locations["@iot.count"] == 2  # linked, not copied
    assert_error(hub.post(f"{V}/Things({thing_id})/Locations", {"@iot.id": 9999}), 400, "9999")


# --- atomicity ------------------------------------------------------------------------------


def _invalid_third_observation() -> dict[str, Any]:
    return thing(
        Locations=[location()],
        Datastreams=[
            datastream(
                Observations=[observation(1.0), observation(2.0), observation("not a number")]
            )
        ],
    )


def _invalid_third_datastream() -> dict[str, Any]:
    broken = datastream()
    broken["unitOfMeasurement"] = "degrees"
    return thing(
        Locations=[location()],
        Datastreams=[datastream(Observations=[observation()]), datastream(), broken],
    )


def _invalid_third_thing_of_location() -> dict[str, Any]:
    return location(Things=[thing("a"), thing("b"), thing(7)])


@pytest.mark.parametrize(
    ("entity_set", "body", "problem"),
    [
        ("Things", _invalid_third_observation(), "result"),
        ("Things", _invalid_third_datastream(), "unitOfMeasurement"),
        ("Locations", _invalid_third_thing_of_location(), "name"),
    ],
)
def test_deep_insert_is_all_or_nothing(hub, graph, entity_set, body, problem):
    before = counts(hub)
    assert_error(hub.post(f"{V}/{entity_set}", body), 400, problem)
    assert counts(hub) == before
    # The writer is not left in a broken transaction.
    created(hub.post(f"{V}/Things", thing()))
    assert counts(hub)["Things"] == before["Things"] + 1


# --- validation -----------------------------------------------------------------------------


def _observation_at(time: Any) -> dict[str, Any]:
    return {"result": 1.0, "phenomenonTime": time}


VALIDATION_CASES = [
    ("Things", thing(colour="red"), "colour"),
    ("Things", thing(name=42), "name"),
    ("Things", {"description": "no name"}, "name"),
    ("Things", thing(properties=[1, 2]), "properties"),
    ("Things", thing(properties="floor 3"), "properties"),
    # PostgreSQL cannot store NUL characters: a 400 on both backends, not a 500 on one.
    ("Things", thing(name="nul\u0000"), "name"),
    ("Things", thing(properties={"note": ["nul\u0000"]}), "properties"),
    ("Things", thing(Locations={"@iot.id": 1}), "Locations"),
    ("Things", thing(Datastreams=[5]), "Datastreams"),
    ("Observations", _observation_at("yesterday"), "phenomenonTime"),
    ("Observations", _observation_at("2024-05-01T12:00:00"), "phenomenonTime"),
    ("Observations", _observation_at(1714564800), "phenomenonTime"),
    ("Observations", {"result": 1.0, "resultTime": "2024-13-01T00:00:00Z"}, "resultTime"),
    ("Observations", {"result": 1.0, "validTime": "2024-05-01T00:00:00Z"}, "validTime"),
    ("Observations", {"phenomenonTime": "2024-05-01T00:00:00Z"}, "result"),
    ("Observations", {"result": 1.0, "parameters": [1]}, "parameters"),
    ("Locations", location(location="7.08,51.17"), "location"),
    ("Locations", location(location={"type": "Pointy", "coordinates": [7, 51]}), "location"),
    ("Locations", location(location={"type": "Point", "coordinates": [7]}), "location"),
    # Latitude first (Sydney): the "longitude" 151.2 is out of range as a latitude.
    ("Locations", location(-33.87, 151.21), "location"),
    ("Locations", location(encodingType="text/plain"), "encodingType"),
    ("FeaturesOfInterest", {**feature(), "feature": None}, "feature"),
    ("Sensors", sensor(encodingType=None), "encodingType"),
    ("ObservedProperties", {**observed_property(), "definition": 5}, "definition"),
]


@pytest.mark.parametrize(("entity_set", "body", "problem"), VALIDATION_CASES)
def test_invalid_values_are_400_naming_the_property(hub, graph, entity_set, body, problem):
    url = f"{V}/{entity_set}"
    if entity_set == "Observations":
        url = f"{V}/Datastreams({graph['Datastream']})/Observations"
    before = counts(hub)
    assert_error(hub.post(url, body), 400, problem)
    assert counts(hub) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("observationType", "OM_Measurement"),
        ("observationType", OBSERVATION_TYPE_BASE + "OM_Nonsense"),
        ("unitOfMeasurement", "°C"),
    ],
)
def test_invalid_datastream_values_are_400(hub, graph, field, value):
    body = datastream(Thing={"@iot.id": graph["Thing"]}, **{field: value})
    assert_error(hub.post(f"{V}/Datastreams", body), 400, field)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b'{"name": "unfinished', "JSON"), (b"", "empty"), (b"[1, 2]", "object")],
)
def test_unreadable_bodies_are_400(hub, content, problem):
    headers = {**hub.admin, "Content-Type": "application/json"}
    response = hub.request("POST", f"{V}/Things", content=content, headers=headers)
    assert_error(response, 400, problem)
    assert counts(hub)["Things"] == 0


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT"])
def test_non_json_content_type_is_415(hub, graph, method):
    url = f"{V}/Things" if method == "POST" else f"{V}/Things({graph['Thing']})"
    headers = {**hub.admin, "Content-Type": "text/plain"}
    response = hub.request(method, url, content=b'{"name": "x"}', headers=headers)
    assert_error(response, 415, "JSON")


def test_observed_area_covers_the_features_of_a_datastreams_observations(hub, graph):
    datastream_id = graph["Datastream"]
    url = f"{V}/Datastreams({datastream_id})"
    area = get_json(hub, url.removeprefix(f"{V}/"))["observedArea"]
    assert area["type"] == "Point"  # one feature so far: its own geometry
    far = {
        "result": 1.0,
        "FeatureOfInterest": {
            "name": "Burg",
            "description": "far away",
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [7.15, 51.14]},
        },
    }
    far_id = created(hub.post(f"{url}/Observations", far))
    grown = get_json(hub, f"Datastreams({datastream_id})")["observedArea"]
    assert grown["type"] == "Polygon"
    xs = [x for x, _ in grown["coordinates"][0]]
    assert max(xs) == 7.15
    assert min(xs) == area["coordinates"][0]
    hub.delete(f"{V}/Observations({far_id})")
    assert get_json(hub, f"Datastreams({datastream_id})")["observedArea"] == area
