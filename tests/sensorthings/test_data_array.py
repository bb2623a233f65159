"""Conformance class data-array (OGC 18-088 clause 13): CreateObservations and
``$resultFormat=dataArray``, on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import cityhub
from cityhub.auth import create_token
from cityhub.store.changes import Change

from .helpers import (
    MEASUREMENT,
    OBSERVATION,
    V,
    all_ids,
    create_thing,
    created_id,
    datastream_body,
    location_body,
    multi_datastream_body,
    post_together,
)

CREATE = f"{V}/CreateObservations"
BASE = "http://testserver/v1.1"
TRUTH = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation"


def group(datastream: int, components: list[str], rows: list[list[Any]], **extra: Any) -> dict:
    return {
        "Datastream": {"@iot.id": datastream},
        "components": components,
        "dataArray": rows,
        **extra,
    }


def created(response) -> list[int | None]:
    """Observation ids of a 201 CreateObservations answer; ``None`` where it says "error"."""
    assert response.status_code == 201, response.text
    ids: list[int | None] = []
    for link in response.json():
        if link == "error":
            ids.append(None)
        else:
            assert link.startswith(f"{BASE}/Observations("), link
            ids.append(int(link.removeprefix(f"{BASE}/Observations(").removesuffix(")")))
    return ids


def observation_count(hub) -> int:
    return hub.get(f"{V}/Observations", params={"$count": "true", "$top": "0"}).json()["@iot.count"]


def data_array(hub, url: str, **params: str) -> dict:
    response = hub.get(url, params={"$resultFormat": "dataArray", **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def station(hub):
    """A Thing with a Location and three Datastreams: measurement, any result, truth."""
    return create_thing(
        hub,
        datastreams=[
            datastream_body("temperature"),
            datastream_body("state", observation_type=OBSERVATION),
            datastream_body("open", observation_type=TRUTH),
        ],
    )


# --- CreateObservations ------------------------------------------------------------------


def test_groups_of_several_datastreams_are_created_in_request_order(hub, station):
    temperature, state, door = station.datastreams
    before = observation_count(hub)
    body = [
        group(
            temperature,
            ["phenomenonTime", "result"],
            [["2026-11-26T10:00:00Z", 20.5], ["2026-11-26T10:01:00Z", 21]],
        ),
        group(
            state,
            ["result", "phenomenonTime", "resultTime", "parameters"],
            [
                [{"mode": "eco"}, "2026-11-26T10:00:00Z", "2026-11-26T10:00:05Z", {"a": 1}],
                [[1, 2, 3], "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z", None, None],
                ["text", "2026-11-26T12:00:00+01:00", None, {"b": "x"}],
            ],
        ),
        group(door, ["result"], [[True], [False]], **{"dataArray@iot.count": 2}),
    ]
    ids = created(hub.post(CREATE, body))
    assert len(ids) == 7
    assert None not in ids
    assert len(set(ids)) == 7
    assert observation_count(hub) == before + 7
    first = hub.get(f"{V}/Observations({ids[0]})").json()
    assert (first["result"], first["phenomenonTime"]) == (20.5, "2026-11-26T10:00:00Z")
    assert hub.get(f"{V}/Observations({ids[1]})/Datastream").json()["@iot.id"] == temperature
    interval = hub.get(f"{V}/Observations({ids[3]})").json()
    assert interval["result"] == [1, 2, 3]
    assert interval["phenomenonTime"] == "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z"
    offset = hub.get(f"{V}/Observations({ids[4]})").json()
    assert (offset["phenomenonTime"], offset["parameters"]) == ("2026-11-26T11:00:00Z", {"b": "x"})
    assert hub.get(f"{V}/Observations({ids[5]})").json()["result"] is True
    assert hub.get(f"{V}/Observations({ids[6]})/Datastream").json()["@iot.id"] == door


def test_rows_that_fail_say_error_and_the_others_are_created(hub, station):
    temperature, state, _ = station.datastreams
    feature = station_feature(hub, station)
    before = observation_count(hub)
    body = [
        group(
            temperature,
            ["phenomenonTime", "result", "FeatureOfInterest/id"],
            [
                ["2026-11-26T10:00:00Z", 1.5, feature],
                ["2026-11-26T10:01:00Z", "warm", feature],  # not a number
                ["yesterday", 2.5, feature],  # not a time
                ["2026-11-26T10:02:00", 2.5, feature],  # no offset
                ["2026-11-26T10:03:00Z", 3.5, 999999],  # no such feature
                ["2026-11-26T10:04:00Z", 4.5, "x"],  # not an id
                ["2026-11-26T10:05:00Z", None, feature],  # no result
                ["2026-11-26T10:06:00Z", 6.5, feature],
            ],
        ),
        group(
            state,
            ["phenomenonTime", "result", "validTime", "parameters"],
            [
                ["2026-11-26T10:00:00Z", "ok", "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z", None],
                ["2026-11-26T10:00:00Z", "nul\u0000", None, None],  # cannot be stored
                ["2026-11-26T10:00:00Z", "ok", "2026-11-26T10:00:00Z", None],  # not interval
                ["2026-11-26T10:00:00Z", "ok", None, [1]],  # parameters not an object
                ["2026-11-26T11:00:00Z/2026-11-26T10:00:00Z", "ok", None, None],  # reversed
            ],
        ),
    ]
    ids = created(hub.post(CREATE, body))
    assert [i is not None for i in ids] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert observation_count(hub) == before + 3
    assert hub.get(f"{V}/Observations({ids[7]})").json()["result"] == 6.5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Datastream": {"@iot.id": 1}}, "JSON array of groups"),
        ([[]], "group 1: must be a JSON object"),
        ([{"components": ["result"], "dataArray": []}], "group 1: name the Datastream"),
        (
            [{"Datastream": {"@iot.id": "one"}, "components": ["result"], "dataArray": []}],
            "integer",
        ),
        ([{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": {}}], "dataArray"),
        ([{"Datastream": {"@iot.id": 1}, "components": [], "dataArray": []}], "components"),
        ([{"Datastream": {"@iot.id": 1}, "components": ["colour"], "dataArray": []}], "'colour'"),
        ([{"Datastream": {"@iot.id": 1}, "components": ["id", "result"], "dataArray": []}], "'id'"),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime"], "dataArray": []}],
            "must include 'result'",
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["result", "result"], "dataArray": []}],
            "twice",
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": [[1], [1, 2]]}],
            "group 1: row 1 has 2 values for 1 components",
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": [[1], 2]}],
            "group 1: row 1 must be an array",
        ),
        (
            [{"Datastream": {"@iot.id": 99999}, "components": ["result"], "dataArray": [[1]]}],
            "group 1: Datastream(99999) does not exist",
        ),
        (
            [{"Datastream": {"@iot.id": 2**40}, "components": ["result"], "dataArray": [[1]]}],
            "does not exist",
        ),
        (
            [
                {
                    "Datastream": {"@iot.id": 1},
                    "components": ["result"],
                    "dataArray@iot.count": 3,
                    "dataArray": [[1]],
                }
            ],
            "dataArray@iot.count",
        ),
        (
            [{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": [], "x": 1}],
            "unknown member 'x'",
        ),
    ],
)
def test_a_malformed_request_is_400_and_stores_nothing(hub, station, body, message):
    """The first group is valid; the second (numbered 1) spoils the whole request."""
    valid = group(station.datastreams[0], ["result"], [[1.0], [2.0]])
    if isinstance(body, list):
        body = [valid, *body]
    before = observation_count(hub)
    response = hub.post(CREATE, body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == 400
    assert error["type"] == "error"
    assert message in error["message"]
    assert observation_count(hub) == before


def test_a_body_that_is_not_json_is_400(hub, station):
    response = hub.request(
        "POST",
        CREATE,
        content=b"[{",
        headers={**hub.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]


def test_only_post_creates(hub):
    response = hub.get(CREATE)
    assert response.status_code == 405
    assert response.json()["type"] == "error"


def test_the_feature_of_interest_is_derived_once_or_given_by_id(hub, station):
    temperature = station.datastreams[0]
    other_feature = created_id(
        hub.post(
            f"{V}/FeaturesOfInterest",
            {
                "name": "pond",
                "description": "a pond",
                "encodingType": "application/geo+json",
                "feature": {"type": "Point", "coordinates": [7.7, 51.9]},
            },
        )
    )
    body = [
        group(temperature, ["result"], [[1.0], [2.0]]),
        group(
            temperature,
            ["result", "FeatureOfInterest/id"],
            [[3.0, other_feature], [4.0, None], [5.0, str(other_feature)]],
        ),
    ]
    ids = created(hub.post(CREATE, body))
    assert None not in ids
    features = [hub.get(f"{V}/Observations({i})/FeatureOfInterest").json()["@iot.id"] for i in ids]
    derived = features[0]
    assert derived != other_feature
    assert features == [derived, derived, other_feature, derived, other_feature]
    feature = hub.get(f"{V}/FeaturesOfInterest({derived})").json()
    assert feature["feature"] == location_body()["location"]
    assert len(all_ids(hub, f"{V}/FeaturesOfInterest")) == 2
    area = hub.get(f"{V}/Datastreams({temperature})").json()["observedArea"]
    assert area["type"] == "Polygon"  # the envelope of both features


def test_rows_of_a_thing_without_location_need_a_feature(hub):
    seeded = create_thing(hub, datastreams=[datastream_body("x")])
    hub.delete(f"{V}/Locations({seeded.location})")
    feature = created_id(
        hub.post(
            f"{V}/FeaturesOfInterest",
            {
                "name": "f",
                "description": "f",
                "encodingType": "application/geo+json",
                "feature": {"type": "Point", "coordinates": [7.0, 51.0]},
            },
        )
    )
    body = [
        group(
            seeded.datastreams[0], ["result", "FeatureOfInterest/id"], [[1.0, None], [2.0, feature]]
        )
    ]
    ids = created(hub.post(CREATE, body))
    assert ids[0] is None
    assert ids[1] is not None


def test_datastream_time_extents_cover_the_new_observations(hub, station):
    temperature = station.datastreams[0]
    body = [
        group(
            temperature,
            ["phenomenonTime", "result", "resultTime"],
            [
                ["2023-12-31T23:00:00Z", 1.0, "2024-01-01T00:00:00Z"],
                ["2024-01-01T05:00:00Z/2024-01-01T06:30:00.25Z", 2.0, "2024-01-02T00:00:00Z"],
                ["2024-01-01T04:00:00Z", 3.0, None],
            ],
        )
    ]
    assert None not in created(hub.post(CREATE, body))
    datastream = hub.get(f"{V}/Datastreams({temperature})").json()
    assert datastream["phenomenonTime"] == "2023-12-31T23:00:00Z/2024-01-01T06:30:00.25Z"
    assert datastream["resultTime"] == "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"
    # The count and the latest Observation each Datastream keeps follow too.
    url = f"{V}/Datastreams({temperature})/Observations"
    count = hub.get(url, params={"$count": "true", "$top": "0"}).json()["@iot.count"]
    assert count == 3
    latest = hub.get(
        f"{V}/Datastreams({temperature})",
        params={"$expand": "Observations($top=1;$orderby=phenomenonTime desc)"},
    ).json()["Observations"]
    assert [o["result"] for o in latest] == [2.0]


def test_ids_are_unique_follow_other_writes_and_are_never_reused(hub, station):
    temperature = station.datastreams[0]
    single = {"result": 1.0, "Datastream": {"@iot.id": temperature}}
    first = created_id(hub.post(f"{V}/Observations", single))
    bulk = created(hub.post(CREATE, [group(temperature, ["result"], [[2.0]] * 50)]))
    after = created_id(hub.post(f"{V}/Observations", single))
    assert min(bulk) > first
    assert len(set(bulk)) == 50
    assert after > max(bulk)
    # Deleting the newest Observations does not give their ids out again.
    newest = created(hub.post(CREATE, [group(temperature, ["result"], [[3.0]] * 3)]))
    for observation_id in newest:
        assert hub.delete(f"{V}/Observations({observation_id})").status_code == 200
    again = created(hub.post(CREATE, [group(temperature, ["result"], [[4.0]] * 3)]))
    assert min(again) > max(newest)
    again_single = created_id(hub.post(f"{V}/Observations", single))
    assert again_single > max(again)


_SINGLE_WRITER = """
import json, sys
from cityhub.sensorthings import writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.settings import load_settings
from cityhub.store.database import Store

store = Store(load_settings(json.loads(sys.argv[1]), environ={}))
body = {"result": 9.0, "Datastream": {"@iot.id": int(sys.argv[2])}}
ids = []
for number in range(int(sys.argv[3])):
    ids.append(store.write_blocking(lambda c: writes.create(c, BY_NAME["Observation"], body)))
    if number == 0:
        print("writing", flush=True)
store.close()
print(json.dumps(ids), flush=True)
"""


def test_ids_stay_unique_while_another_process_writes(hub, station):
    """Another process creates Observations one by one on the same database while bulk loads
    run here; no id is handed out twice, and every one is stored."""
    temperature = station.datastreams[0]
    settings = {"data_dir": str(hub.settings.data_dir), "database_url": hub.settings.database_url}
    source = str(Path(cityhub.__file__).parents[1])
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([source, *sys.path])}
    process = subprocess.Popen(
        [sys.executable, "-c", _SINGLE_WRITER, json.dumps(settings), str(temperature), "300"],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "writing"
        bulk: list[int] = []
        for _ in range(10):
            response = hub.post(CREATE, [group(temperature, ["result"], [[1.0]] * 100)])
            bulk += [i for i in created(response) if i is not None]
        singles = json.loads(process.stdout.readline())
    finally:
        process.wait(timeout=120)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0
    assert len(bulk) == 1000
    assert len(singles) == 300
    assert len(set(bulk) | set(singles)) == len(bulk) + len(singles)
    stored = all_ids(hub, f"{V}/Datastreams({temperature})/Observations")
    assert set(bulk) | set(singles) <= set(stored)


def test_requests_queued_together_are_loaded_together_and_fail_alone(hub, station):
    temperature, state, _ = station.datastreams
    before = observation_count(hub)
    bodies = [
        [group(temperature, ["result"], [[1.0], [2.0]])],
        [group(state, ["result"], [["a"]]), group(99999, ["result"], [[1]])],
        [group(state, ["result"], [["b"], [None]])],
        [group(temperature, ["result"], [[3.0]])],
    ]
    responses = post_together(hub, CREATE, bodies)
    assert [r.status_code for r in responses] == [201, 400, 201, 201]
    assert "group 1: Datastream(99999)" in responses[1].json()["message"]
    ids = [created(r) for r in (responses[0], responses[2], responses[3])]
    assert [len(i) for i in ids] == [2, 2, 1]
    assert ids[1][1] is None
    assert observation_count(hub) == before + 4
    features = {
        hub.get(f"{V}/Observations({i})/FeatureOfInterest").json()["@iot.id"]
        for i in (ids[0][0], ids[1][0], ids[2][0])
    }
    assert len(features) == 1  # derived once, from the one Location


def test_created_observations_are_handed_on_after_the_commit(hub, station):
    """Whoever listens for changes (the MQTT notifier) hears of every created Observation."""
    received: list[list[Change]] = []
    heard_any = threading.Event()

    def listen(changes: list[Change]) -> None:  # called after the commit resolved the request
        received.append(changes)
        heard_any.set()

    hub.store.set_commit_listener(listen)
    body = [group(station.datastreams[0], ["result"], [[1.0], ["bad"], [2.0]])]
    ids = created(hub.post(CREATE, body))
    assert heard_any.wait(timeout=10)
    hub.store.set_commit_listener(None)
    heard = [c for batch in received for c in batch if c.entity == "Observation"]
    assert [(c.id, c.kind) for c in heard] == [(ids[0], "created"), (ids[2], "created")]


def test_creating_needs_a_writer_token(hub, station):
    body = [group(station.datastreams[0], ["result"], [[1.0]])]
    before = observation_count(hub)
    anonymous = hub.post(CREATE, body, auth=False)
    assert anonymous.status_code == 401
    token = hub.store.write_blocking(lambda c: create_token(c, "reader", "dashboard"))
    reader = hub.post(CREATE, body, auth=False, headers={"Authorization": f"Bearer {token}"})
    assert reader.status_code == 403
    assert observation_count(hub) == before


def test_an_empty_request_creates_nothing(hub):
    response = hub.post(CREATE, [])
    assert response.status_code == 201
    assert response.json() == []


# --- $resultFormat=dataArray ---------------------------------------------------------------


def _load_two_datastreams(hub, station) -> tuple[int, int, list[int]]:
    temperature, state, _ = station.datastreams
    body = [
        group(
            temperature,
            ["phenomenonTime", "result"],
            [[f"2026-11-26T10:{m:02d}:00Z", float(m)] for m in range(5)],
        ),
        group(state, ["phenomenonTime", "result"], [["2026-11-26T09:00:00Z", "on"]]),
    ]
    ids = created(hub.post(CREATE, body))
    return temperature, state, ids


def test_observations_are_grouped_per_datastream(hub, station):
    temperature, state, ids = _load_two_datastreams(hub, station)
    body = data_array(hub, f"{V}/Observations", **{"$filter": f"id ge {ids[0]}"})
    assert "@iot.nextLink" not in body
    assert "@iot.count" not in body
    groups = body["value"]
    assert [g["Datastream@iot.navigationLink"] for g in groups] == [
        f"{BASE}/Datastreams({temperature})",
        f"{BASE}/Datastreams({state})",
    ]
    first = groups[0]
    assert set(first) == {
        "Datastream@iot.navigationLink",
        "components",
        "dataArray@iot.count",
        "dataArray",
    }
    assert first["components"] == [
        "id",
        "phenomenonTime",
        "resultTime",
        "result",
        "resultQuality",
        "validTime",
        "parameters",
    ]
    assert first["dataArray@iot.count"] == 5
    assert first["dataArray"][0] == [ids[0], "2026-11-26T10:00:00Z", None, 0.0, None, None, None]
    assert groups[1]["dataArray"] == [
        [ids[5], "2026-11-26T09:00:00Z", None, "on", None, None, None]
    ]


def test_select_filter_orderby_top_count_and_next_link(hub, station):
    temperature, _, ids = _load_two_datastreams(hub, station)
    url = f"{V}/Datastreams({temperature})/Observations"
    params = {
        "$select": "result,phenomenonTime,id",
        "$filter": "result ge 1",
        "$orderby": "phenomenonTime desc",
        "$top": "2",
        "$count": "true",
    }
    body = data_array(hub, url, **params)
    assert body["@iot.count"] == 4
    (only,) = body["value"]
    assert only["components"] == ["result", "phenomenonTime", "id"]
    assert only["dataArray"] == [
        [4.0, "2026-11-26T10:04:00Z", ids[4]],
        [3.0, "2026-11-26T10:03:00Z", ids[3]],
    ]
    next_link = body["@iot.nextLink"]
    assert "$resultFormat=dataArray" in next_link
    assert "$skip=2" in next_link
    second = hub.get(next_link.removeprefix("http://testserver")).json()
    assert [row[0] for row in second["value"][0]["dataArray"]] == [2.0, 1.0]
    assert "@iot.nextLink" not in second


def test_feature_of_interest_id_is_a_readable_component(hub, station):
    temperature, _, ids = _load_two_datastreams(hub, station)
    feature = hub.get(f"{V}/Observations({ids[0]})/FeatureOfInterest").json()["@iot.id"]
    url = f"{V}/Datastreams({temperature})/Observations"
    body = data_array(hub, url, **{"$select": "@iot.id,FeatureOfInterest/id", "$top": "1"})
    assert body["value"][0]["components"] == ["id", "FeatureOfInterest/id"]
    assert body["value"][0]["dataArray"][0][1] == feature


def test_an_empty_collection_has_no_groups(hub, station):
    body = data_array(hub, f"{V}/Observations", **{"$filter": "result eq 12345"})
    assert body == {"value": []}


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        (f"{V}/Observations", {"$resultFormat": "csv"}, "'csv'"),
        (f"{V}/Things", {"$resultFormat": "dataArray"}, "collections of Observations"),
        (f"{V}/Datastreams(1)", {"$resultFormat": "dataArray"}, "collections of Observations"),
        (f"{V}/Observations(1)", {"$resultFormat": "dataArray"}, "collections of Observations"),
        (
            f"{V}/Observations",
            {"$resultFormat": "dataArray", "$expand": "Datastream"},
            "$expand",
        ),
        (
            f"{V}/Observations",
            {"$resultFormat": "dataArray", "$select": "Datastream"},
            "cannot select 'Datastream'",
        ),
        (f"{V}/Observations/$ref", {"$resultFormat": "dataArray"}, "collections of Observations"),
    ],
)
def test_result_format_misuse_is_400(hub, station, url, params, message):
    created(hub.post(CREATE, [group(station.datastreams[0], ["result"], [[1.0]])]))
    response = hub.get(url, params=params)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_what_is_read_back_equals_what_was_written(hub, station):
    _, state, _ = station.datastreams
    feature = station_feature(hub, station)
    components = [
        "phenomenonTime",
        "resultTime",
        "result",
        "resultQuality",
        "validTime",
        "parameters",
        "FeatureOfInterest/id",
    ]
    rows = [
        [
            "2026-11-26T10:00:00.123456Z",
            "2026-11-26T10:00:01Z",
            12.25,
            {"accuracy": 0.1},
            "2026-11-26T10:00:00Z/2026-11-27T10:00:00Z",
            {"battery": 3.3},
            feature,
        ],
        ["2026-11-26T11:00:00Z/2026-11-26T12:00:00Z", None, "text", None, None, None, feature],
        ["2026-11-26T12:00:00.5Z", None, {"nested": [1, {"a": None}]}, [1, 2], None, {}, feature],
        ["2026-11-26T13:00:00Z", None, 7, "good", None, None, feature],
        ["2026-11-26T14:00:00Z", None, False, None, None, None, feature],
        ["2026-11-26T15:00:00Z", None, 2**60, None, None, None, feature],
    ]
    ids = created(hub.post(CREATE, [group(state, components, rows)]))
    assert None not in ids
    url = f"{V}/Datastreams({state})/Observations"
    body = data_array(hub, url, **{"$select": ",".join(components), "$orderby": "id"})
    (read,) = body["value"]
    assert read["components"] == components
    assert read["dataArray"] == rows
    assert read["Datastream@iot.navigationLink"] == f"{BASE}/Datastreams({state})"


def test_the_service_root_lists_the_data_array_class(hub):
    conformance = hub.get(V).json()["serverSettings"]["conformance"]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array" in conformance


def station_feature(hub, station) -> int:
    """A FeatureOfInterest of its own, near the station."""
    body = {
        "name": "garden",
        "description": "the garden of the station",
        "encodingType": "application/geo+json",
        "feature": {"type": "Point", "coordinates": [7.61, 51.97]},
    }
    return created_id(hub.post(f"{V}/FeaturesOfInterest", body))


def test_measurement_results_must_be_numbers(hub):
    seeded = create_thing(hub, datastreams=[datastream_body("m", observation_type=MEASUREMENT)])
    ids = created(
        hub.post(
            CREATE,
            [group(seeded.datastreams[0], ["result"], [[1], [2.5], [True], ["3"], [2**60]])],
        )
    )
    assert [i is not None for i in ids] == [True, True, False, False, True]


# --- MultiDatastreams ----------------------------------------------------------------------


@pytest.fixture
def mast(hub, station):
    """A MultiDatastream (temperature and humidity, both measurements) of the station."""
    body = {**multi_datastream_body("mast"), "Thing": {"@iot.id": station.thing}}
    return created_id(hub.post(f"{V}/MultiDatastreams", body))


def test_multi_datastream_groups_take_array_results(hub, station, mast):
    temperature = station.datastreams[0]
    body = [
        {
            "MultiDatastream": {"@iot.id": mast},
            "components": ["phenomenonTime", "result"],
            "dataArray": [
                ["2026-11-26T10:00:00Z", [20.5, 60]],
                ["2026-11-26T10:01:00Z", [21.0]],  # one value for two properties
                ["2026-11-26T10:02:00Z", [21.5, "wet"]],  # not a measurement
                ["2026-11-26T10:03:00Z", 22.0],  # not an array
                ["2026-11-26T10:04:00Z", [22.5, 58.5]],
            ],
        },
        group(temperature, ["phenomenonTime", "result"], [["2026-11-26T10:00:00Z", 20.5]]),
    ]
    ids = created(hub.post(CREATE, body))
    assert [i is not None for i in ids] == [True, False, False, False, True, True]
    stored = hub.get(f"{V}/Observations({ids[0]})", params={"$expand": "MultiDatastream"}).json()
    assert stored["result"] == [20.5, 60]
    assert stored["MultiDatastream"]["@iot.id"] == mast
    multi = hub.get(f"{V}/MultiDatastreams({mast})").json()
    assert multi["phenomenonTime"] == "2026-11-26T10:00:00Z/2026-11-26T10:04:00Z"
    read = data_array(hub, f"{V}/Observations", **{"$select": "id,result", "$orderby": "id"})
    assert read["value"][0]["MultiDatastream@iot.navigationLink"] == (
        f"{BASE}/MultiDatastreams({mast})"
    )
    assert read["value"][0]["dataArray"] == [[ids[0], [20.5, 60]], [ids[4], [22.5, 58.5]]]
    assert read["value"][1]["Datastream@iot.navigationLink"] == f"{BASE}/Datastreams({temperature})"
    per_multi = data_array(hub, f"{V}/MultiDatastreams({mast})/Observations")
    assert per_multi["value"][0]["dataArray@iot.count"] == 2


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"MultiDatastream": {"@iot.id": 99999}}, "MultiDatastream(99999) does not exist"),
        ({"MultiDatastream": {"@iot.id": 1}, "Datastream": {"@iot.id": 1}}, "one of them"),
        ({"MultiDatastream": 1}, '"MultiDatastream": {"@iot.id": <id>}'),
    ],
)
def test_a_group_names_one_existing_stream(hub, mast, reference, message):
    body = [{**reference, "components": ["result"], "dataArray": [[[1.0, 2.0]]]}]
    response = hub.post(CREATE, body)
    assert response.status_code == 400
    assert message in response.json()["message"]
