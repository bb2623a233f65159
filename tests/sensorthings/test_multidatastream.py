"""Conformance class multi-datastream (OGC 18-088 clause 12), on SQLite and PostgreSQL.

A MultiDatastream groups Observations whose result is an array: one value per ObservedProperty,
in the order of its ObservedProperties, unitOfMeasurements and multiObservationDataTypes.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from cityhub.sensorthings.model import OBSERVATION_TYPE_BASE
from cityhub.store import schema

from .helpers import V, created_id, datastream_body, ids, location_body, observation, post_together

BASE = "http://testserver/v1.1"
COMPLEX = OBSERVATION_TYPE_BASE + "OM_ComplexObservation"
MEASUREMENT = OBSERVATION_TYPE_BASE + "OM_Measurement"
COUNT = OBSERVATION_TYPE_BASE + "OM_CountObservation"
CATEGORY = OBSERVATION_TYPE_BASE + "OM_CategoryObservation"

# What a weather station measures together: (ObservedProperty, unit, multiObservationDataType).
WEATHER = (
    ("air temperature", {"name": "degree Celsius", "symbol": "degC"}, MEASUREMENT),
    ("relative humidity", {"name": "percent", "symbol": "%"}, COUNT),
    ("wind direction", {"name": "compass point", "symbol": ""}, CATEGORY),
)

TABLES = {
    "Things": schema.things,
    "Sensors": schema.sensors,
    "ObservedProperties": schema.observed_properties,
    "MultiDatastreams": schema.multi_datastreams,
    "links": schema.multi_datastream_observed_properties,
    "Observations": schema.observations,
    "FeaturesOfInterest": schema.features_of_interest,
}


# --- data helpers ---------------------------------------------------------------------------


def observed_property(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "definition": f"https://example.org/def/{name.replace(' ', '_')}",
        "description": f"the {name}",
    }


def sensor(name: str = "Weather mast") -> dict[str, Any]:
    return {
        "name": name,
        "description": "A mast with three instruments",
        "encodingType": "application/pdf",
        "metadata": "https://example.org/mast.pdf",
    }


def multi_body(
    name: str = "Weather",
    parts: tuple[tuple[str, dict, str], ...] = WEATHER,
    observations: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A MultiDatastream with a new Sensor and new ObservedProperties, one per part."""
    body: dict[str, Any] = {
        "name": name,
        "description": f"multi datastream {name}",
        "observationType": COMPLEX,
        "unitOfMeasurements": [unit for _, unit, _ in parts],
        "multiObservationDataTypes": [data_type for _, _, data_type in parts],
        "Sensor": sensor(),
        "ObservedProperties": [observed_property(f"{name} {p}") for p, _, _ in parts],
        **extra,
    }
    if observations is not None:
        body["Observations"] = observations
    return body


def thing_with(hub: Any, *multi: dict[str, Any], **extra: Any) -> int:
    """A Thing with a Location and the given MultiDatastreams, by deep insert."""
    body = {
        "name": "Station",
        "description": "a weather station",
        "Locations": [location_body("Mast", (7.1, 51.2))],
        "MultiDatastreams": list(multi),
        **extra,
    }
    return created_id(hub.post(f"{V}/Things", body))


def only_id(hub: Any, url: str) -> int:
    (entity_id,) = ids(hub.get(url))
    return entity_id


def seeded(hub: Any) -> tuple[int, int]:
    """Thing and MultiDatastream "Weather" with two Observations."""
    thing = thing_with(
        hub,
        multi_body(
            observations=[
                observation([20.5, 60, "NW"], "2026-11-01T10:00:00Z"),
                observation(
                    [21.0, 58, "W"], "2026-11-01T11:00:00Z", resultTime="2026-11-01T11:05:00Z"
                ),
            ]
        ),
    )
    return thing, only_id(hub, f"{V}/Things({thing})/MultiDatastreams")


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["value"]]


def counts(hub: Any) -> dict[str, int]:
    def work(connection: Any) -> dict[str, int]:
        return {
            name: connection.scalar(select(func.count()).select_from(table))
            for name, table in TABLES.items()
        }

    return hub.store.read_blocking(work)


def assert_error(response: Any, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "type", "message"}
    assert body["code"] == status
    for fragment in fragments:
        assert fragment in body["message"], body["message"]
    return body["message"]


# --- service root and data model -------------------------------------------------------------


def test_service_root_lists_multi_datastreams_and_the_conformance_class(hub):
    root = hub.get(V).json()
    assert {"name": "MultiDatastreams", "url": f"{BASE}/MultiDatastreams"} in root["value"]
    conformance = root["serverSettings"]["conformance"]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/multi-datastream" in conformance


def test_deep_insert_creates_every_property_and_relation(hub):
    _, multi = seeded(hub)
    body = hub.get(f"{V}/MultiDatastreams({multi})").json()
    assert body["@iot.selfLink"] == f"{BASE}/MultiDatastreams({multi})"
    assert body["name"] == "Weather"
    assert body["observationType"] == COMPLEX
    assert body["unitOfMeasurements"] == [unit for _, unit, _ in WEATHER]
    assert body["multiObservationDataTypes"] == [MEASUREMENT, COUNT, CATEGORY]
    assert body["properties"] is None
    assert body["phenomenonTime"] == "2026-11-01T10:00:00Z/2026-11-01T11:00:00Z"
    assert body["resultTime"] == "2026-11-01T11:05:00Z/2026-11-01T11:05:00Z"
    assert body["observedArea"] == {"type": "Point", "coordinates": [7.1, 51.2]}
    for relation in ("Thing", "Sensor", "ObservedProperties", "Observations"):
        link = body[f"{relation}@iot.navigationLink"]
        assert link == f"{BASE}/MultiDatastreams({multi})/{relation}"
    assert only_id(hub, f"{V}/MultiDatastreams({multi})/Thing/MultiDatastreams") == multi
    results = hub.get(
        f"{V}/MultiDatastreams({multi})/Observations", params={"$orderby": "phenomenonTime"}
    ).json()["value"]
    assert [o["result"] for o in results] == [[20.5, 60, "NW"], [21.0, 58, "W"]]
    assert all(
        o["MultiDatastream@iot.navigationLink"].endswith("/MultiDatastream") for o in results
    )
    # The FeatureOfInterest was derived from the Thing's Location, once.
    features = hub.get(f"{V}/FeaturesOfInterest").json()["value"]
    assert [f["feature"] for f in features] == [{"type": "Point", "coordinates": [7.1, 51.2]}]


def test_links_by_id_and_navigation_both_ways(hub):
    thing = created_id(
        hub.post(f"{V}/Things", {"name": "T", "description": "d", "Locations": [location_body()]})
    )
    sensor_id = created_id(hub.post(f"{V}/Sensors", sensor()))
    first = created_id(hub.post(f"{V}/ObservedProperties", observed_property("a")))
    second = created_id(hub.post(f"{V}/ObservedProperties", observed_property("b")))
    body = {
        **multi_body(parts=WEATHER[:2]),
        "Thing": {"@iot.id": thing},
        "Sensor": {"@iot.id": sensor_id},
        "ObservedProperties": [{"@iot.id": first}, {"@iot.id": second}],
    }
    multi = created_id(hub.post(f"{V}/MultiDatastreams", body))
    assert ids(hub.get(f"{V}/Things({thing})/MultiDatastreams")) == [multi]
    assert ids(hub.get(f"{V}/Sensors({sensor_id})/MultiDatastreams")) == [multi]
    assert ids(hub.get(f"{V}/ObservedProperties({first})/MultiDatastreams")) == [multi]
    assert ids(hub.get(f"{V}/MultiDatastreams({multi})/ObservedProperties")) == [first, second]
    assert hub.get(f"{V}/MultiDatastreams({multi})/Sensor").json()["@iot.id"] == sensor_id
    assert hub.get(f"{V}/MultiDatastreams({multi})/Thing/name/$value").text == "T"
    observation_id = created_id(
        hub.post(f"{V}/MultiDatastreams({multi})/Observations", {"result": [1.5, 2]})
    )
    assert ids(hub.get(f"{V}/MultiDatastreams({multi})/Observations")) == [observation_id]
    navigated = hub.get(f"{V}/Observations({observation_id})/MultiDatastream").json()
    assert navigated["@iot.id"] == multi
    assert hub.get(f"{V}/Observations({observation_id})/Datastream").status_code == 404
    assert hub.get(f"{V}/Observations({observation_id})/MultiDatastream/$ref").json() == {
        "@iot.selfLink": f"{BASE}/MultiDatastreams({multi})"
    }
    # A MultiDatastream is not one of the Datastreams of its Thing.
    assert ids(hub.get(f"{V}/Things({thing})/Datastreams")) == []
    # Created through its Thing's collection, it belongs to that Thing.
    second = {**body, "name": "second"}
    del second["Thing"]
    created = created_id(hub.post(f"{V}/Things({thing})/MultiDatastreams", second))
    assert ids(hub.get(f"{V}/Things({thing})/MultiDatastreams")) == [multi, created]


# --- the order of ObservedProperties ---------------------------------------------------------


def test_observed_properties_keep_the_order_they_were_given_in(hub):
    made = [
        created_id(hub.post(f"{V}/ObservedProperties", observed_property(n)))
        for n in ("a", "b", "c")
    ]
    a, b, c = made
    thing = thing_with(
        hub,
        {**multi_body("first"), "ObservedProperties": [{"@iot.id": i} for i in (c, a, b)]},
        {**multi_body("second"), "ObservedProperties": [{"@iot.id": i} for i in (b, c, a)]},
    )
    first, second = ids(
        hub.get(f"{V}/Things({thing})/MultiDatastreams", params={"$orderby": "name"})
    )
    assert ids(hub.get(f"{V}/MultiDatastreams({first})/ObservedProperties")) == [c, a, b]
    assert ids(hub.get(f"{V}/MultiDatastreams({second})/ObservedProperties")) == [b, c, a]
    refs = hub.get(f"{V}/MultiDatastreams({first})/ObservedProperties/$ref").json()["value"]
    assert [r["@iot.selfLink"] for r in refs] == [
        f"{BASE}/ObservedProperties({i})" for i in (c, a, b)
    ]
    expanded = hub.get(
        f"{V}/Things({thing})/MultiDatastreams",
        params={"$orderby": "name", "$expand": "ObservedProperties($select=id)"},
    ).json()["value"]
    assert [[o["@iot.id"] for o in m["ObservedProperties"]] for m in expanded] == [
        [c, a, b],
        [b, c, a],
    ]
    paged = hub.get(
        f"{V}/MultiDatastreams",
        params={"$orderby": "name", "$expand": "ObservedProperties($top=2;$skip=1)"},
    ).json()["value"]
    assert [[o["@iot.id"] for o in m["ObservedProperties"]] for m in paged] == [[a, b], [c, a]]
    by_name = hub.get(
        f"{V}/MultiDatastreams({second})/ObservedProperties", params={"$orderby": "name"}
    )
    assert ids(by_name) == [a, b, c]
    nested = hub.get(
        f"{V}/Things",
        params={"$expand": "MultiDatastreams($orderby=name;$expand=ObservedProperties)"},
    ).json()["value"][0]["MultiDatastreams"]
    assert [[o["@iot.id"] for o in m["ObservedProperties"]] for m in nested] == [
        [c, a, b],
        [b, c, a],
    ]


def test_patch_replaces_the_whole_list_in_its_new_order(hub):
    _, multi = seeded(hub)
    old = ids(hub.get(f"{V}/MultiDatastreams({multi})/ObservedProperties"))
    reordered = [old[2], old[0], old[1]]
    response = hub.patch(
        f"{V}/MultiDatastreams({multi})",
        {"ObservedProperties": [{"@iot.id": i} for i in reordered]},
    )
    assert response.status_code == 200, response.text
    assert ids(hub.get(f"{V}/MultiDatastreams({multi})/ObservedProperties")) == reordered
    shorter = {
        "unitOfMeasurements": [{"name": "percent"}, {"name": "degree Celsius"}],
        "multiObservationDataTypes": [COUNT, MEASUREMENT],
        "ObservedProperties": [{"@iot.id": old[1]}, {"@iot.id": old[0]}],
    }
    response = hub.patch(f"{V}/MultiDatastreams({multi})", shorter)
    assert response.status_code == 200, response.text
    assert response.json()["multiObservationDataTypes"] == [COUNT, MEASUREMENT]
    assert ids(hub.get(f"{V}/MultiDatastreams({multi})/ObservedProperties")) == [old[1], old[0]]
    # The ObservedProperty left out still exists, no longer linked.
    assert ids(hub.get(f"{V}/ObservedProperties({old[2]})/MultiDatastreams")) == []
    created = hub.post(f"{V}/MultiDatastreams({multi})/Observations", {"result": [55, 19.5]})
    assert created.status_code == 201, created.text


# --- validation: lengths, types, nothing left behind -----------------------------------------


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            {"unitOfMeasurements": [WEATHER[0][1], WEATHER[1][1]]},
            ["MultiDatastream.unitOfMeasurements has 2 entries but there are 3 ObservedProperties"],
        ),
        (
            {"multiObservationDataTypes": [MEASUREMENT]},
            ["MultiDatastream.multiObservationDataTypes has 1 entry but there are 3"],
        ),
        (
            {"ObservedProperties": [observed_property("only one")]},
            ["MultiDatastream.unitOfMeasurements has 3 entries but there is 1 ObservedProperty"],
        ),
        ({"ObservedProperties": []}, ["at least one ObservedProperty"]),
        ({"ObservedProperties": None}, ["ObservedProperties must be a JSON array"]),
        ({"observationType": MEASUREMENT}, ["MultiDatastream.observationType must be", COMPLEX]),
        (
            {"multiObservationDataTypes": [MEASUREMENT, "Measurement", MEASUREMENT]},
            ["MultiDatastream.multiObservationDataTypes[1] must be one of"],
        ),
        (
            {"multiObservationDataTypes": [MEASUREMENT, COMPLEX, MEASUREMENT]},
            ["multiObservationDataTypes[1]"],
        ),
        ({"unitOfMeasurements": {"name": "degC"}}, ["unitOfMeasurements must be a JSON array"]),
        (
            {"unitOfMeasurements": [{}, "degC", {}]},
            ["MultiDatastream.unitOfMeasurements[1] must be a JSON object"],
        ),
        ({"multiObservationDataTypes": None}, ["multiObservationDataTypes is required"]),
        (
            {"Observations": [observation([1.5, 2], "2026-11-01T10:00:00Z")]},
            ["Observation.result has 2 values", "3 multiObservationDataTypes"],
        ),
    ],
)
def test_a_multi_datastream_that_does_not_add_up_is_rejected_and_leaves_nothing(
    hub, change, fragments
):
    before = counts(hub)
    body = multi_body()
    body.update(change)
    if change.get("ObservedProperties", "") is None:
        del body["ObservedProperties"]
        fragments = ["needs at least one ObservedProperty in ObservedProperties"]
    if change.get("multiObservationDataTypes", "") is None:
        del body["multiObservationDataTypes"]
    thing = {"name": "T", "description": "d", "Locations": [location_body()]}
    assert_error(hub.post(f"{V}/Things", {**thing, "MultiDatastreams": [body]}), 400, *fragments)
    assert counts(hub) == before


def test_an_observed_property_listed_twice_is_rejected(hub):
    twice = created_id(hub.post(f"{V}/ObservedProperties", observed_property("twice")))
    body = {**multi_body(parts=WEATHER[:2]), "ObservedProperties": [{"@iot.id": twice}] * 2}
    thing = {"name": "T", "description": "d", "MultiDatastreams": [body]}
    assert_error(hub.post(f"{V}/Things", thing), 400, f"ObservedProperty({twice}) appears twice")


def test_a_multi_datastream_needs_its_thing_and_sensor(hub):
    body = multi_body()
    assert_error(hub.post(f"{V}/MultiDatastreams", body), 400, "needs a Thing")
    thing = created_id(hub.post(f"{V}/Things", {"name": "T", "description": "d"}))
    body = {**multi_body(), "Thing": {"@iot.id": thing}}
    del body["Sensor"]
    assert_error(hub.post(f"{V}/MultiDatastreams", body), 400, "needs a Sensor")
    assert counts(hub)["MultiDatastreams"] == 0


def test_patch_and_put_check_the_lengths_again(hub):
    _, multi = seeded(hub)
    url = f"{V}/MultiDatastreams({multi})"
    before = hub.get(url).json()
    assert_error(
        hub.patch(url, {"unitOfMeasurements": [WEATHER[0][1]]}),
        400,
        "MultiDatastream.unitOfMeasurements has 1 entry but there are 3 ObservedProperties",
    )
    first = ids(hub.get(f"{url}/ObservedProperties"))[0]
    assert_error(
        hub.patch(url, {"ObservedProperties": [{"@iot.id": first}]}),
        400,
        "has 3 entries but there is 1 ObservedProperty",
    )
    assert_error(hub.patch(url, {"ObservedProperties": []}), 400, "at least one ObservedProperty")
    assert_error(hub.patch(url, {"observationType": MEASUREMENT}), 400, "observationType")
    put = {k: before[k] for k in ("name", "description", "observationType", "unitOfMeasurements")}
    assert_error(hub.put(url, put), 400, "multiObservationDataTypes is required")
    put["multiObservationDataTypes"] = [MEASUREMENT, COUNT]
    assert_error(hub.put(url, put), 400, "multiObservationDataTypes has 2 entries")
    assert hub.get(url).json() == before
    assert len(ids(hub.get(f"{url}/ObservedProperties"))) == 3
    put["multiObservationDataTypes"] = before["multiObservationDataTypes"]
    response = hub.put(url, {**put, "description": "replaced"})
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "replaced"
    assert response.json()["properties"] is None


def test_a_json_patch_of_the_lists_is_checked_like_any_patch(hub):
    _, multi = seeded(hub)
    url = f"{V}/MultiDatastreams({multi})"
    headers = {"Content-Type": "application/json-patch+json"}
    longer = [{"op": "add", "path": "/unitOfMeasurements/-", "value": {"name": "hPa"}}]
    assert_error(
        hub.patch(url, json=longer, headers=headers),
        400,
        "MultiDatastream.unitOfMeasurements has 4 entries but there are 3 ObservedProperties",
    )
    renamed = [{"op": "replace", "path": "/unitOfMeasurements/1/symbol", "value": "percent"}]
    response = hub.patch(url, json=renamed, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["unitOfMeasurements"][1] == {"name": "percent", "symbol": "percent"}


def test_links_are_not_added_or_removed_one_by_one(hub):
    _, multi = seeded(hub)
    extra = created_id(hub.post(f"{V}/ObservedProperties", observed_property("extra")))
    listed = ids(hub.get(f"{V}/MultiDatastreams({multi})/ObservedProperties"))
    before = counts(hub)
    hint = "change the list as a whole with PATCH MultiDatastreams(id)"
    refs = f"{V}/MultiDatastreams({multi})/ObservedProperties/$ref"
    assert_error(hub.post(refs, {"@iot.id": extra}), 400, hint)
    assert_error(
        hub.delete(f"{V}/MultiDatastreams({multi})/ObservedProperties({listed[0]})/$ref"), 400, hint
    )
    assert_error(
        hub.post(f"{V}/MultiDatastreams({multi})/ObservedProperties", observed_property("new")),
        400,
        hint,
    )
    assert_error(
        hub.post(f"{V}/ObservedProperties({extra})/MultiDatastreams/$ref", {"@iot.id": multi}),
        400,
        hint,
    )
    assert_error(
        hub.patch(f"{V}/ObservedProperties({extra})", {"MultiDatastreams": [{"@iot.id": multi}]}),
        400,
        hint,
    )
    assert counts(hub) == before
    assert ids(hub.get(f"{V}/MultiDatastreams({multi})/ObservedProperties")) == listed


def test_a_batch_creates_a_multi_datastream_whose_observed_properties_it_made(hub):
    """A JSON batch: two ObservedProperties, then a MultiDatastream listing them by reference
    in the opposite order, then an Observation of it; one atomicity group."""
    thing = created_id(
        hub.post(f"{V}/Things", {"name": "T", "description": "d", "Locations": [location_body()]})
    )
    multi = {
        **multi_body(parts=WEATHER[:2]),
        "Thing": {"@iot.id": thing},
        "ObservedProperties": [{"@iot.id": "$2"}, {"@iot.id": "$1"}],
    }
    requests = [
        {"id": "1", "method": "post", "url": "ObservedProperties", "body": observed_property("a")},
        {"id": "2", "method": "post", "url": "ObservedProperties", "body": observed_property("b")},
        {"id": "3", "method": "post", "url": "MultiDatastreams", "body": multi},
        {"id": "4", "method": "post", "url": "$3/Observations", "body": {"result": [1.5, 2]}},
    ]
    for request in requests:
        request["atomicityGroup"] = "g"
    response = hub.post(f"{V}/$batch", {"requests": requests})
    assert response.status_code == 200, response.text
    answers = response.json()["responses"]
    assert [a["status"] for a in answers] == [201] * 4, answers
    first, second, created = (a["body"]["@iot.id"] for a in answers[:3])
    assert ids(hub.get(f"{V}/MultiDatastreams({created})/ObservedProperties")) == [second, first]
    assert answers[3]["body"]["result"] == [1.5, 2]


# --- Observations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "fragment"),
    [
        (21.5, "Observation.result must be a JSON array for a MultiDatastream"),
        ({"t": 21.5}, "must be a JSON array"),
        ([21.5, 60], "Observation.result has 2 values but its MultiDatastream has 3"),
        ([21.5, 60, "NW", 1], "has 4 values"),
        (["warm", 60, "NW"], "Observation.result[0] must be a number"),
        ([21.5, 60.5, "NW"], "Observation.result[1] must be an integer"),
        ([21.5, 60, 270], "Observation.result[2] must be a string"),
        (None, "Observation.result is required"),
    ],
)
def test_results_must_fit_the_multi_observation_data_types(hub, result, fragment):
    _, multi = seeded(hub)
    before = counts(hub)
    url = f"{V}/MultiDatastreams({multi})/Observations"
    assert_error(hub.post(url, {"result": result}), 400, fragment)
    linked = {"result": result, "MultiDatastream": {"@iot.id": multi}}
    assert_error(hub.post(f"{V}/Observations", linked), 400, fragment)
    assert counts(hub) == before


def test_an_observation_belongs_to_exactly_one_kind_of_stream(hub):
    _, multi = seeded(hub)
    thing = created_id(
        hub.post(
            f"{V}/Things",
            {
                "name": "T",
                "description": "d",
                "Locations": [location_body()],
                "Datastreams": [datastream_body("plain")],
            },
        )
    )
    datastream = only_id(hub, f"{V}/Things({thing})/Datastreams")
    before = counts(hub)
    both = {"result": 1.0, "Datastream": {"@iot.id": datastream}}
    both["MultiDatastream"] = {"@iot.id": multi}
    message = "Observation needs exactly one of Datastream or MultiDatastream"
    assert_error(hub.post(f"{V}/Observations", both), 400, message, "got both")
    assert_error(hub.post(f"{V}/Observations", {"result": 1.0}), 400, message, "got neither")
    on_multi = {"result": 1.0, "MultiDatastream": {"@iot.id": multi}}
    assert_error(hub.post(f"{V}/Datastreams({datastream})/Observations", on_multi), 400, "both")
    missing = {"result": [1.0, 2, "N"], "MultiDatastream": {"@iot.id": 999999}}
    assert_error(hub.post(f"{V}/Observations", missing), 400, "MultiDatastream(999999)")
    assert counts(hub) == before
    # Datastreams work as before, beside MultiDatastreams.
    plain = hub.post(f"{V}/Observations", {"result": 2.5, "Datastream": {"@iot.id": datastream}})
    assert plain.status_code == 201, plain.text


def test_an_observation_can_move_between_a_datastream_and_a_multi_datastream(hub):
    _, multi = seeded(hub)
    thing = created_id(
        hub.post(
            f"{V}/Things",
            {
                "name": "T",
                "description": "d",
                "Locations": [location_body()],
                "Datastreams": [
                    datastream_body("plain", [observation(3.5, "2026-12-01T00:00:00Z")])
                ],
            },
        )
    )
    datastream = only_id(hub, f"{V}/Things({thing})/Datastreams")
    moved = only_id(hub, f"{V}/Datastreams({datastream})/Observations")
    url = f"{V}/Observations({moved})"
    assert_error(hub.patch(url, {"MultiDatastream": {"@iot.id": multi}}), 400, "result must be")
    both = {"Datastream": {"@iot.id": datastream}, "MultiDatastream": {"@iot.id": multi}}
    assert_error(hub.patch(url, both), 400, "got both")
    response = hub.patch(url, {"MultiDatastream": {"@iot.id": multi}, "result": [1.0, 2, "N"]})
    assert response.status_code == 200, response.text
    assert hub.get(f"{url}/MultiDatastream").json()["@iot.id"] == multi
    assert hub.get(f"{url}/Datastream").status_code == 404
    assert hub.get(f"{V}/Datastreams({datastream})").json()["phenomenonTime"] is None
    multi_time = hub.get(f"{V}/MultiDatastreams({multi})").json()["phenomenonTime"]
    assert multi_time == "2026-11-01T10:00:00Z/2026-12-01T00:00:00Z"


def test_observations_posted_together_are_batched_for_both_kinds_of_stream(hub):
    _, multi = seeded(hub)
    thing = created_id(
        hub.post(
            f"{V}/Things",
            {
                "name": "T",
                "description": "d",
                "Locations": [location_body()],
                "Datastreams": [datastream_body("plain")],
            },
        )
    )
    datastream = only_id(hub, f"{V}/Things({thing})/Datastreams")
    bodies = []
    for i in range(10):
        time = f"2026-11-02T00:{i:02d}:00Z"
        if i % 2:
            bodies.append({"result": [i + 0.5, i, "N"], "phenomenonTime": time})
            bodies[-1]["MultiDatastream"] = {"@iot.id": multi}
        else:
            bodies.append({"result": i, "phenomenonTime": time})
            bodies[-1]["Datastream"] = {"@iot.id": datastream}
    responses = post_together(hub, f"{V}/Observations", bodies)
    assert [r.status_code for r in responses] == [201] * 10
    assert [r.json()["result"] for r in responses[:3]] == [0, [1.5, 1, "N"], 2]
    good = {"result": [1.5, 1, "N"], "phenomenonTime": "2026-11-01T12:00:00Z"}
    good["MultiDatastream"] = {"@iot.id": multi}
    bad = {"result": [1, 2, 3], "MultiDatastream": {"@iot.id": multi}}
    assert [r.status_code for r in post_together(hub, f"{V}/Observations", [good, bad])] == [
        201,
        400,
    ]
    assert hub.get(f"{V}/MultiDatastreams({multi})").json()["phenomenonTime"] == (
        "2026-11-01T10:00:00Z/2026-11-02T00:09:00Z"
    )
    assert hub.get(f"{V}/Datastreams({datastream})").json()["phenomenonTime"] == (
        "2026-11-02T00:00:00Z/2026-11-02T00:08:00Z"
    )
    assert len(ids(hub.get(f"{V}/MultiDatastreams({multi})/Observations"))) == 8


def test_extents_follow_changes_and_deletions_of_observations(hub):
    _, multi = seeded(hub)
    url = f"{V}/MultiDatastreams({multi})"
    later = hub.post(
        f"{url}/Observations",
        {
            "result": [19.0, 70, "S"],
            "phenomenonTime": "2026-11-03T00:00:00Z",
            "FeatureOfInterest": {
                "name": "Elsewhere",
                "description": "a second place",
                "encodingType": "application/geo+json",
                "feature": {"type": "Point", "coordinates": [7.3, 51.4]},
            },
        },
    )
    later_id = created_id(later)
    body = hub.get(url).json()
    assert body["phenomenonTime"] == "2026-11-01T10:00:00Z/2026-11-03T00:00:00Z"
    assert body["observedArea"]["type"] == "Polygon"
    patched = hub.patch(f"{V}/Observations({later_id})", {"phenomenonTime": "2026-11-02T00:00:00Z"})
    assert patched.status_code == 200, patched.text
    assert hub.get(url).json()["phenomenonTime"].endswith("/2026-11-02T00:00:00Z")
    assert hub.delete(f"{V}/Observations({later_id})").status_code == 200
    body = hub.get(url).json()
    assert body["phenomenonTime"] == "2026-11-01T10:00:00Z/2026-11-01T11:00:00Z"
    assert body["observedArea"] == {"type": "Point", "coordinates": [7.1, 51.2]}


# --- query options through the new relations -------------------------------------------------


def test_filter_expand_select_and_orderby_through_multi_datastreams(hub):
    thing, multi = seeded(hub)
    other = thing_with(hub, multi_body("Air", parts=WEATHER[:1]), name="Other")
    air = only_id(hub, f"{V}/Things({other})/MultiDatastreams")
    assert names(
        hub.get(
            f"{V}/MultiDatastreams",
            params={"$filter": "ObservedProperties/name eq 'Air air temperature'"},
        )
    ) == ["Air"]
    assert ids(
        hub.get(f"{V}/Things", params={"$filter": "MultiDatastreams/name eq 'Weather'"})
    ) == [thing]
    assert ids(
        hub.get(
            f"{V}/ObservedProperties",
            params={"$filter": "MultiDatastreams/Thing/name eq 'Other'"},
        )
    ) == ids(hub.get(f"{V}/MultiDatastreams({air})/ObservedProperties"))
    warm = hub.get(
        f"{V}/Observations",
        params={"$filter": "MultiDatastream/name eq 'Weather' and result[0] gt 20.7"},
    ).json()["value"]
    assert [o["result"] for o in warm] == [[21.0, 58, "W"]]
    units = hub.get(
        f"{V}/MultiDatastreams", params={"$filter": "unitOfMeasurements[1]/symbol eq '%'"}
    )
    assert ids(units) == [multi]
    assert names(hub.get(f"{V}/MultiDatastreams", params={"$orderby": "name desc"})) == [
        "Weather",
        "Air",
    ]
    selected = hub.get(
        f"{V}/MultiDatastreams({multi})",
        params={
            "$select": "name,multiObservationDataTypes",
            "$expand": "Observations($orderby=phenomenonTime desc;$top=1;$select=result),"
            "Thing($select=name)",
        },
    ).json()
    next_link = selected.pop("Observations@iot.nextLink")
    assert next_link.startswith(f"{BASE}/MultiDatastreams({multi})/Observations?")
    assert "$skip=1" in next_link
    assert selected == {
        "name": "Weather",
        "multiObservationDataTypes": [MEASUREMENT, COUNT, CATEGORY],
        "Observations": [{"result": [21.0, 58, "W"]}],
        "Thing": {"name": "Station"},
    }
    expanded = hub.get(
        f"{V}/Observations",
        params={"$expand": "MultiDatastream($select=name),Datastream", "$top": "1"},
    ).json()["value"][0]
    assert expanded["MultiDatastream"] == {"name": "Weather"}
    assert expanded["Datastream"] is None
    counted = hub.get(
        f"{V}/Things({thing})", params={"$expand": "MultiDatastreams($count=true)"}
    ).json()
    assert counted["MultiDatastreams@iot.count"] == 1
    sensors = hub.get(f"{V}/Sensors", params={"$expand": "MultiDatastreams($select=id)"})
    assert sorted(m["@iot.id"] for s in sensors.json()["value"] for m in s["MultiDatastreams"]) == [
        multi,
        air,
    ]


# --- delete cascades --------------------------------------------------------------------------


def test_deleting_a_thing_deletes_its_multi_datastreams_and_their_observations(hub):
    thing, _ = seeded(hub)
    assert hub.delete(f"{V}/Things({thing})").status_code == 200
    left = counts(hub)
    assert (left["MultiDatastreams"], left["Observations"], left["links"]) == (0, 0, 0)
    assert left["Sensors"] == 1
    assert left["ObservedProperties"] == 3


def test_deleting_a_sensor_deletes_its_multi_datastreams(hub):
    _, multi = seeded(hub)
    sensor_id = hub.get(f"{V}/MultiDatastreams({multi})/Sensor").json()["@iot.id"]
    assert hub.delete(f"{V}/Sensors({sensor_id})").status_code == 200
    assert hub.get(f"{V}/MultiDatastreams({multi})").status_code == 404
    assert counts(hub)["Observations"] == 0


def test_deleting_an_observed_property_deletes_the_multi_datastreams_listing_it(hub):
    shared = created_id(hub.post(f"{V}/ObservedProperties", observed_property("shared")))
    with_shared = {**multi_body("with", parts=WEATHER[:2])}
    with_shared["ObservedProperties"] = [observed_property("own"), {"@iot.id": shared}]
    with_shared["Observations"] = [observation([1.5, 2], "2026-11-01T00:00:00Z")]
    thing = thing_with(hub, with_shared, multi_body("without", parts=WEATHER[:1]))
    assert hub.delete(f"{V}/ObservedProperties({shared})").status_code == 200
    assert names(hub.get(f"{V}/Things({thing})/MultiDatastreams")) == ["without"]
    left = counts(hub)
    assert (left["Observations"], left["links"]) == (0, 1)
    assert names(hub.get(f"{V}/ObservedProperties")) == ["own", "without air temperature"]


def test_deleting_a_multi_datastream_keeps_what_it_links(hub):
    _, multi = seeded(hub)
    assert hub.delete(f"{V}/MultiDatastreams({multi})").status_code == 200
    left = counts(hub)
    assert (left["MultiDatastreams"], left["Observations"], left["links"]) == (0, 0, 0)
    assert (left["Things"], left["Sensors"], left["ObservedProperties"]) == (1, 1, 3)
    assert hub.get(f"{V}/MultiDatastreams({multi})").status_code == 404


def test_deleting_a_feature_deletes_its_observations_and_shrinks_the_extents(hub):
    _, multi = seeded(hub)
    url = f"{V}/MultiDatastreams({multi})/Observations"
    feature = hub.get(f"{V}/FeaturesOfInterest").json()["value"][0]["@iot.id"]
    elsewhere = {
        "result": [1.0, 1, "E"],
        "phenomenonTime": "2026-11-05T00:00:00Z",
        "FeatureOfInterest": {
            "name": "Elsewhere",
            "description": "d",
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [7.5, 51.5]},
        },
    }
    created_id(hub.post(url, elsewhere))
    assert hub.delete(f"{V}/FeaturesOfInterest({feature})").status_code == 200
    body = hub.get(f"{V}/MultiDatastreams({multi})").json()
    assert body["phenomenonTime"] == "2026-11-05T00:00:00Z/2026-11-05T00:00:00Z"
    assert body["observedArea"] == {"type": "Point", "coordinates": [7.5, 51.5]}


def test_openapi_describes_the_lists_of_a_multi_datastream(hub):
    schemas = hub.get("/api/openapi.json").json()["components"]["schemas"]
    properties = schemas["MultiDatastream"]["properties"]
    assert properties["unitOfMeasurements"] == {"type": "array", "items": {"type": "object"}}
    assert properties["multiObservationDataTypes"]["items"]["enum"][0].startswith(
        OBSERVATION_TYPE_BASE
    )
    assert properties["observationType"]["enum"] == [COMPLEX]
    assert properties["ObservedProperties"]["type"] == "array"
    assert schemas["Observation"]["properties"]["MultiDatastream"] == {
        "$ref": "#/components/schemas/MultiDatastream"
    }
