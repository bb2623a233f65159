"""Conformance classes datamodel and resource-path (OGC 18-088 clauses 8 and 9.2): reading."""

from __future__ import annotations

import pytest

from .helpers import (
    V,
    create_thing,
    datastream_body,
    ids,
    location_body,
    multi_datastream_body,
    observation,
)

BASE = "http://testserver/v1.1"
REQ = "http://www.opengis.net/spec/iot_sensing/1.1/req/"

# Entity set -> (every property of the spec, every navigation property).
MODEL = {
    "Things": (
        {"name", "description", "properties"},
        {"Locations", "HistoricalLocations", "Datastreams", "MultiDatastreams"},
    ),
    "Locations": (
        {"name", "description", "encodingType", "location", "properties"},
        {"Things", "HistoricalLocations"},
    ),
    "HistoricalLocations": ({"time"}, {"Thing", "Locations"}),
    "Datastreams": (
        {
            "name",
            "description",
            "unitOfMeasurement",
            "observationType",
            "observedArea",
            "phenomenonTime",
            "resultTime",
            "properties",
        },
        {"Thing", "Sensor", "ObservedProperty", "Observations"},
    ),
    "MultiDatastreams": (
        {
            "name",
            "description",
            "unitOfMeasurements",
            "observationType",
            "multiObservationDataTypes",
            "observedArea",
            "phenomenonTime",
            "resultTime",
            "properties",
        },
        {"Thing", "Sensor", "ObservedProperties", "Observations"},
    ),
    "Sensors": (
        {"name", "description", "encodingType", "metadata", "properties"},
        {"Datastreams", "MultiDatastreams"},
    ),
    "ObservedProperties": (
        {"name", "definition", "description", "properties"},
        {"Datastreams", "MultiDatastreams"},
    ),
    "Observations": (
        {
            "phenomenonTime",
            "resultTime",
            "result",
            "resultQuality",
            "validTime",
            "parameters",
        },
        {"Datastream", "MultiDatastream", "FeatureOfInterest"},
    ),
    "FeaturesOfInterest": (
        {"name", "description", "encodingType", "feature", "properties"},
        {"Observations"},
    ),
}


def two_things(hub):
    """Thing 1 with Datastream 1 (3 Observations); Thing 2 with Datastreams 2 and 3."""
    first = create_thing(hub, "first", properties={"owner": "city"})
    second = create_thing(
        hub,
        "second",
        datastreams=[
            datastream_body("humidity", [observation(55, "2024-02-01T00:00:00Z")]),
            datastream_body("pressure"),
        ],
        location=location_body("Hafen", (7.64, 51.95)),
    )
    return first, second


# --- service root -----------------------------------------------------------------------------


def test_service_root_lists_entity_sets_with_absolute_urls(hub):
    response = hub.get(V)
    assert response.status_code == 200
    body = response.json()
    sets = {item["name"]: item["url"] for item in body["value"]}
    assert sets == {name: f"{BASE}/{name}" for name in MODEL}


def test_service_root_answers_with_a_trailing_slash_too(hub):
    with_slash = hub.get(f"{V}/")
    assert with_slash.status_code == 200, with_slash.text
    assert with_slash.json() == hub.get(V).json()


def test_service_root_lists_exactly_the_implemented_conformance_classes(hub):
    conformance = hub.get(V).json()["serverSettings"]["conformance"]
    assert sorted(conformance) == sorted(
        REQ + name
        for name in (
            "datamodel",
            "resource-path/resource-path-to-entities",
            "request-data",
            "create-update-delete",
            "batch-request",
            "multi-datastream",
        )
    )


def test_every_entity_set_url_of_the_service_root_answers(hub):
    create_thing(hub, MultiDatastreams=[multi_datastream_body("weather")])
    for item in hub.get(V).json()["value"]:
        response = hub.get(item["url"].removeprefix("http://testserver"))
        assert response.status_code == 200, item["name"]
        assert response.json()["value"], f"{item['name']} is empty"


# --- the data model ---------------------------------------------------------------------------


def seed_everything(hub):
    """A Thing whose one Observation sets every optional property."""
    return create_thing(
        hub,
        "complete",
        properties={"owner": "city"},
        datastreams=[
            datastream_body(
                "temperature",
                [
                    observation(
                        20.5,
                        "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z",
                        resultTime="2024-01-01T01:00:05Z",
                        resultQuality={"flag": "ok"},
                        validTime="2024-01-01T00:00:00Z/2024-01-02T00:00:00Z",
                        parameters={"height": 2},
                    )
                ],
                properties={"calibrated": True},
            )
        ],
    )


def seed_multi_datastream(hub):
    """A Thing with only a MultiDatastream, of one Observation."""
    multi = multi_datastream_body(
        "weather", [observation([20.5, 60], "2024-01-01T00:00:00Z")], properties={"mast": 2}
    )
    return create_thing(hub, "multi", datastreams=[], MultiDatastreams=[multi])


@pytest.mark.parametrize("set_name", list(MODEL))
def test_every_entity_type_has_every_property_and_link(hub, set_name):
    if set_name == "MultiDatastreams":
        seed_multi_datastream(hub)
    else:
        seed_everything(hub)
    properties, relations = MODEL[set_name]
    collection = hub.get(f"{V}/{set_name}")
    assert collection.status_code == 200
    items = collection.json()["value"]
    assert len(items) == 1
    entity = items[0]
    entity_id = entity["@iot.id"]
    assert isinstance(entity_id, int)
    assert not isinstance(entity_id, bool)
    self_link = f"{BASE}/{set_name}({entity_id})"
    assert entity["@iot.selfLink"] == self_link
    for relation in relations:
        assert entity[f"{relation}@iot.navigationLink"] == f"{self_link}/{relation}"
    assert properties <= entity.keys(), properties - entity.keys()
    annotations = {f"{r}@iot.navigationLink" for r in relations} | {"@iot.id", "@iot.selfLink"}
    assert set(entity) == properties | annotations
    # The entity by id is the same document.
    single = hub.get(f"{V}/{set_name}({entity_id})")
    assert single.status_code == 200
    assert single.json() == entity
    # Every navigation link answers; an Observation of a Datastream has no MultiDatastream.
    for relation in relations:
        linked = hub.get(entity[f"{relation}@iot.navigationLink"].removeprefix("http://testserver"))
        expected = 404 if (set_name, relation) == ("Observations", "MultiDatastream") else 200
        assert linked.status_code == expected, relation


def test_property_values_round_trip(hub):
    seeded = seed_everything(hub)
    thing = hub.get(f"{V}/Things({seeded.thing})").json()
    assert thing["name"] == "complete"
    assert thing["properties"] == {"owner": "city"}
    datastream = hub.get(f"{V}/Datastreams({seeded.datastreams[0]})").json()
    assert datastream["unitOfMeasurement"]["symbol"] == "degC"
    assert datastream["properties"] == {"calibrated": True}
    assert datastream["phenomenonTime"] == "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z"
    assert datastream["resultTime"] == "2024-01-01T01:00:05Z/2024-01-01T01:00:05Z"
    observation_id = seeded.observations[seeded.datastreams[0]][0]
    obs = hub.get(f"{V}/Observations({observation_id})").json()
    assert obs["result"] == 20.5
    assert obs["phenomenonTime"] == "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z"
    assert obs["resultTime"] == "2024-01-01T01:00:05Z"
    assert obs["resultQuality"] == {"flag": "ok"}
    assert obs["validTime"] == "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"
    assert obs["parameters"] == {"height": 2}
    location = hub.get(f"{V}/Locations({seeded.location})").json()
    assert location["location"] == {"type": "Point", "coordinates": [7.6, 51.96]}
    assert location["encodingType"] == "application/geo+json"
    feature = hub.get(f"{V}/Observations({observation_id})/FeatureOfInterest").json()
    assert feature["feature"] == location["location"]


def test_fractional_seconds_are_kept(hub):
    seeded = create_thing(
        hub,
        datastreams=[datastream_body("t", [observation(1, "2024-01-01T00:00:00.123Z")])],
    )
    observation_id = seeded.observations[seeded.datastreams[0]][0]
    obs = hub.get(f"{V}/Observations({observation_id})").json()
    assert obs["phenomenonTime"].startswith("2024-01-01T00:00:00.123")
    assert obs["phenomenonTime"].endswith("Z")


# --- resource paths ---------------------------------------------------------------------------


def test_entity_by_id(hub):
    _first, second = two_things(hub)
    body = hub.get(f"{V}/Things({second.thing})").json()
    assert body["@iot.id"] == second.thing
    assert body["name"] == "second"


def test_navigation_to_a_collection(hub):
    first, second = two_things(hub)
    assert sorted(ids(hub.get(f"{V}/Things({second.thing})/Datastreams"))) == second.datastreams
    assert ids(hub.get(f"{V}/Things({first.thing})/Datastreams")) == first.datastreams
    observations = ids(hub.get(f"{V}/Datastreams({first.datastreams[0]})/Observations"))
    assert observations == first.observations[first.datastreams[0]]


def test_navigation_to_a_single_entity(hub):
    _first, second = two_things(hub)
    response = hub.get(f"{V}/Datastreams({second.datastreams[1]})/Thing")
    assert response.status_code == 200
    body = response.json()
    assert "value" not in body
    assert body["@iot.id"] == second.thing
    assert body["@iot.selfLink"] == f"{BASE}/Things({second.thing})"


def test_navigation_over_two_relations(hub):
    first, second = two_things(hub)
    response = hub.get(f"{V}/Datastreams({second.datastreams[0]})/Thing/Locations")
    assert ids(response) == [second.location]
    assert response.json()["value"][0]["name"] == "Hafen"
    observation_id = first.observations[first.datastreams[0]][1]
    thing = hub.get(f"{V}/Observations({observation_id})/Datastream/Thing")
    assert thing.json()["@iot.id"] == first.thing


def test_related_entity_by_id(hub):
    _first, second = two_things(hub)
    own = hub.get(f"{V}/Things({second.thing})/Datastreams({second.datastreams[1]})")
    assert own.status_code == 200
    assert own.json()["name"] == "pressure"


def test_related_entity_by_id_is_404_when_not_related(hub):
    first, second = two_things(hub)
    response = hub.get(f"{V}/Things({first.thing})/Datastreams({second.datastreams[0]})")
    assert response.status_code == 404
    assert response.json()["code"] == 404
    many_to_many = hub.get(f"{V}/Things({first.thing})/Locations({second.location})")
    assert many_to_many.status_code == 404


def test_historical_locations_navigation(hub):
    seeded = create_thing(hub)
    historical = ids(hub.get(f"{V}/Things({seeded.thing})/HistoricalLocations"))
    assert len(historical) == 1
    locations = ids(hub.get(f"{V}/HistoricalLocations({historical[0]})/Locations"))
    assert locations == [seeded.location]
    thing = hub.get(f"{V}/HistoricalLocations({historical[0]})/Thing").json()
    assert thing["@iot.id"] == seeded.thing
    assert ids(hub.get(f"{V}/Locations({seeded.location})/Things")) == [seeded.thing]


# --- properties and $value ----------------------------------------------------------------------


def test_property(hub):
    _first, second = two_things(hub)
    response = hub.get(f"{V}/Things({second.thing})/name")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"name": "second"}


def test_property_of_a_navigated_entity(hub):
    _first, second = two_things(hub)
    response = hub.get(f"{V}/Datastreams({second.datastreams[0]})/Thing/name")
    assert response.json() == {"name": "second"}


def test_object_property_and_sub_property(hub):
    seeded = create_thing(hub)
    datastream = seeded.datastreams[0]
    unit = hub.get(f"{V}/Datastreams({datastream})/unitOfMeasurement")
    assert unit.json() == {
        "unitOfMeasurement": {"name": "degree Celsius", "symbol": "degC", "definition": "ucum:Cel"}
    }
    name = hub.get(f"{V}/Datastreams({datastream})/unitOfMeasurement/name")
    assert name.status_code == 200
    assert name.json() == {"name": "degree Celsius"}
    missing = hub.get(f"{V}/Datastreams({datastream})/unitOfMeasurement/nothing")
    assert missing.status_code == 404


def test_value_is_plain_text(hub):
    seeded = create_thing(hub, "Wetter")
    response = hub.get(f"{V}/Things({seeded.thing})/name/$value")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Wetter"
    observation_id = seeded.observations[seeded.datastreams[0]][0]
    result = hub.get(f"{V}/Observations({observation_id})/result/$value")
    assert result.headers["content-type"].startswith("text/plain")
    assert result.text == "20.5"
    sub = hub.get(f"{V}/Datastreams({seeded.datastreams[0]})/unitOfMeasurement/symbol/$value")
    assert sub.text == "degC"


def test_null_property_is_204(hub):
    seeded = create_thing(hub)
    response = hub.get(f"{V}/Things({seeded.thing})/properties")
    assert response.status_code == 204
    assert response.content == b""
    observation_id = seeded.observations[seeded.datastreams[0]][0]
    value = hub.get(f"{V}/Observations({observation_id})/resultTime/$value")
    assert value.status_code == 204


def test_unknown_property_is_404(hub):
    seeded = create_thing(hub)
    response = hub.get(f"{V}/Things({seeded.thing})/colour")
    assert response.status_code == 404
    assert "colour" in response.json()["message"]


def test_property_of_a_missing_entity_is_404(hub):
    response = hub.get(f"{V}/Things(99)/name")
    assert response.status_code == 404


# --- $ref ---------------------------------------------------------------------------------------


def test_ref_of_a_collection(hub):
    first, second = two_things(hub)
    response = hub.get(f"{V}/Things({second.thing})/Datastreams/$ref")
    assert response.status_code == 200
    value = response.json()["value"]
    assert value == [{"@iot.selfLink": f"{BASE}/Datastreams({i})"} for i in second.datastreams]
    everything = hub.get(f"{V}/Things/$ref").json()["value"]
    assert everything == [
        {"@iot.selfLink": f"{BASE}/Things({first.thing})"},
        {"@iot.selfLink": f"{BASE}/Things({second.thing})"},
    ]


def test_ref_of_a_collection_takes_query_options(hub):
    _first, second = two_things(hub)
    response = hub.get(f"{V}/Things/$ref", params={"$filter": "name eq 'second'", "$count": "true"})
    assert response.json() == {
        "@iot.count": 1,
        "value": [{"@iot.selfLink": f"{BASE}/Things({second.thing})"}],
    }


def test_ref_of_a_single_entity(hub):
    first, second = two_things(hub)
    response = hub.get(f"{V}/Datastreams({second.datastreams[0]})/Thing/$ref")
    assert response.status_code == 200
    assert response.json() == {"@iot.selfLink": f"{BASE}/Things({second.thing})"}
    by_id = hub.get(f"{V}/Things({first.thing})/$ref")
    assert by_id.json() == {"@iot.selfLink": f"{BASE}/Things({first.thing})"}


def test_ref_of_a_missing_entity_is_404(hub):
    assert hub.get(f"{V}/Things(5)/$ref").status_code == 404
    assert hub.get(f"{V}/Things(5)/Datastreams/$ref").status_code == 404


# --- errors -------------------------------------------------------------------------------------


def assert_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status
    assert body["type"] == "error"
    assert isinstance(body["message"], str)
    assert body["message"]
    return body["message"]


def test_unknown_entity_is_404(hub):
    create_thing(hub)
    message = assert_error(hub.get(f"{V}/Things(42)"), 404)
    assert "42" in message
    assert_error(hub.get(f"{V}/Things(42)/Datastreams"), 404)
    assert_error(hub.get(f"{V}/Datastreams(42)/Thing"), 404)
    assert_error(hub.get(f"{V}/Things(42)/Datastreams(1)/Observations"), 404)


def test_unknown_entity_set_is_404(hub):
    message = assert_error(hub.get(f"{V}/Cars"), 404)
    assert "Cars" in message
    assert_error(hub.get(f"{V}/Cars(1)"), 404)


def test_unknown_relation_is_404(hub):
    seeded = create_thing(hub)
    assert_error(hub.get(f"{V}/Things({seeded.thing})/Cars"), 404)


@pytest.mark.parametrize("raw", ["abc", "1.5", "-1", "", "1,2"])
def test_non_integer_id_is_400(hub, raw):
    create_thing(hub)
    message = assert_error(hub.get(f"{V}/Things({raw})"), 400)
    assert "id" in message


def test_collection_followed_by_a_property_is_400(hub):
    create_thing(hub)
    assert_error(hub.get(f"{V}/Things/name"), 400)


def test_to_one_relation_with_an_id_is_400(hub):
    seeded = create_thing(hub)
    assert_error(hub.get(f"{V}/Datastreams({seeded.datastreams[0]})/Thing(1)"), 400)


@pytest.mark.parametrize(
    "path",
    [
        "Things(99999999999999999999)",
        "Observations(9223372036854775808)",
        "Things(3000000000)/Datastreams",
    ],
)
def test_ids_beyond_the_id_column_are_not_found(hub, path):
    response = hub.get(f"/v1.1/{path}")
    assert response.status_code == 404
    assert response.json()["type"] == "error"
