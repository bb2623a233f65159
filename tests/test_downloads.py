"""Bulk downloads of collections, Datastreams and MultiDatastreams: every format parses and
holds the data, the time range narrows, validators answer conditional requests, restricted
data stays hidden.

A public dataset "offen" (a collection of toilets, a Thing with a Datastream) and a
restricted one "intern" (a collection and a Thing of its own), with a reader token bound to
"intern". Places in Solingen, of our own making.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from rdflib import Graph
from rdflib.namespace import DCAT
from starlette.requests import ClientDisconnect
from tests.conftest import HubClient
from tests.features.helpers import add_collection, add_features, box, point
from tests.sensorthings.helpers import (
    OBSERVATION_TYPE,
    V,
    all_ids,
    create_thing,
    created_id,
    datastream_body,
    feature_body,
    location_body,
    observation,
)

from cityhub import auth, datasets
from cityhub.downloads import collections, observations, sensors
from cityhub.downloads.multi_datastreams import component_names
from cityhub.downloads.urls import (
    collection_download,
    datastream_download,
    multi_datastream_download,
)

TEMPERATURES = [
    observation(20.5, "2024-01-01T00:00:00Z", resultTime="2024-01-01T00:00:05Z"),
    observation(21, "2024-01-01T01:00:00Z"),
    observation(-3.25, "2024-01-01T02:00:00Z/2024-01-01T02:30:00Z"),
    observation(1e-07, "2024-01-01T03:00:00.5Z"),
]


@dataclass
class World:
    datastream: int
    observations: list[int]
    secret_datastream: int
    reader: dict[str, str]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(hub) -> World:
    def setup(connection):
        open_id = datasets.create_dataset(
            connection, slug="offen", title="Offen", licence="cc-zero"
        )
        secret = datasets.create_dataset(
            connection, slug="intern", title="Intern", licence="cc-zero", visibility="restricted"
        )
        return open_id, secret, auth.create_token(connection, "reader", "intern-reader", secret)

    open_id, secret, reader = hub.store.write_blocking(setup)
    toilets = add_collection(hub, open_id, "toiletten")
    add_features(
        hub,
        toilets,
        [
            {
                "geometry": point(7.0833, 51.1657),
                "properties": {"name": "Markt", "seats": 2, "open": True, "tags": ["wc"]},
            },
            {
                "geometry": box(7.08, 51.17, 7.09, 51.18),
                "properties": {"name": "Park, Nord", "fee": 0.5, "hours": {"mo": "8-18"}},
            },
            {"geometry": None, "properties": {"name": 'Bahnhof "Mitte"', "id": "B-1"}},
        ],
    )
    add_features(hub, add_collection(hub, secret, "geheim"), [{"geometry": point(7.1, 51.2)}])
    thing = create_thing(
        hub,
        "Wetter",
        datastreams=[datastream_body("temperature", TEMPERATURES)],
        location=location_body("Markt", (7.0833, 51.1657)),
        properties={"dataset": "offen"},
    )
    hidden = create_thing(
        hub,
        "Innen",
        datastreams=[datastream_body("co2", [observation(612, "2024-01-01T00:00:00Z")])],
        properties={"dataset": "intern"},
    )
    datastream = thing.datastreams[0]
    return World(
        datastream,
        sorted(thing.observations[datastream]),
        hidden.datastreams[0],
        _bearer(reader),
    )


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def _parquet(response) -> pa.Table:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    return pq.read_table(io.BytesIO(response.content))


def _error(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status
    for word in words:
        assert word in body["message"]


def _observe(hub, datastream: int, result, time: str) -> int:
    body = {"result": result, "phenomenonTime": time, "Datastream": {"@iot.id": datastream}}
    return created_id(hub.post(f"{V}/Observations", body))


# --- Datastreams ------------------------------------------------------------------------------


def test_datastream_csv(hub, world):
    response = hub.get(datastream_download("", world.datastream, "csv"))
    rows = _csv(response)
    assert list(rows[0]) == [
        "id",
        "phenomenonTimeStart",
        "phenomenonTimeEnd",
        "resultTime",
        "result",
    ]
    assert [int(row["id"]) for row in rows] == world.observations
    assert [float(row["result"]) for row in rows] == [20.5, 21, -3.25, 1e-07]
    assert rows[0]["phenomenonTimeStart"] == "2024-01-01T00:00:00.000000Z"
    assert rows[0]["resultTime"] == "2024-01-01T00:00:05.000000Z"
    assert rows[0]["phenomenonTimeEnd"] == ""
    assert rows[2]["phenomenonTimeEnd"] == "2024-01-01T02:30:00.000000Z"
    assert rows[3]["phenomenonTimeStart"] == "2024-01-01T03:00:00.500000Z"
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="datastream-{world.datastream}.csv"'
    assert response.headers["cache-control"] == "public, max-age=60"


def test_datastream_time_range(hub, world):
    url = datastream_download("", world.datastream, "csv")
    params = {"from": "2024-01-01T01:00:00Z", "to": "2024-01-01T03:30:00+01:00"}
    rows = _csv(hub.get(url, params=params))
    assert [int(row["id"]) for row in rows] == world.observations[1:3]
    rows = _csv(hub.get(url, params={"from": "2024-01-01T02:00:00.000001Z"}))
    assert [int(row["id"]) for row in rows] == world.observations[3:]
    rows = _csv(hub.get(url, params={"to": "2024-01-01T00:00:00Z"}))
    assert rows == []


def test_datastream_geojson(hub, world):
    response = hub.get(datastream_download("", world.datastream, "geojson"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    document = orjson.loads(response.content)
    assert document["type"] == "FeatureCollection"
    features = document["features"]
    assert [f["id"] for f in features] == world.observations
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [7.0833, 51.1657]}
    assert features[0]["properties"] == {
        "phenomenonTimeStart": "2024-01-01T00:00:00.000000Z",
        "phenomenonTimeEnd": None,
        "resultTime": "2024-01-01T00:00:05.000000Z",
        "result": 20.5,
    }
    assert [f["properties"]["result"] for f in features] == [20.5, 21, -3.25, 1e-07]


def test_datastream_geojson_many_features_of_interest(hub, world, monkeypatch):
    """A moving sensor's Features of interest outgrow the geometries kept: a batch's
    geometries are all there after the older ones are let go."""
    monkeypatch.setattr(observations, "BATCH_ROWS", 2)
    monkeypatch.setattr(observations._Geometries, "LIMIT", 2)
    thing = create_thing(
        hub, "Fahrzeug", datastreams=[datastream_body("speed")], properties={"dataset": "offen"}
    )
    datastream = thing.datastreams[0]
    places = [(7.01, 51.1), (7.02, 51.2), (7.03, 51.3)]
    features = [
        created_id(hub.post(f"{V}/FeaturesOfInterest", feature_body(f"P{i}", place)))
        for i, place in enumerate(places)
    ]
    for hour, index in enumerate([0, 1, 0, 2]):
        body = {
            "result": hour,
            "phenomenonTime": f"2024-01-01T0{hour}:00:00Z",
            "Datastream": {"@iot.id": datastream},
            "FeatureOfInterest": {"@iot.id": features[index]},
        }
        created_id(hub.post(f"{V}/Observations", body))
    response = hub.get(datastream_download("", datastream, "geojson"))
    assert response.status_code == 200, response.text
    coordinates = [f["geometry"]["coordinates"] for f in orjson.loads(response.content)["features"]]
    assert coordinates == [list(places[index]) for index in [0, 1, 0, 2]]


def test_datastream_parquet(hub, world):
    table = _parquet(hub.get(datastream_download("", world.datastream, "parquet")))
    assert table.num_rows == 4
    assert table.schema.field("result").type == pa.float64()
    assert table.schema.field("phenomenonTimeStart").type == pa.timestamp("us", tz="UTC")
    columns = table.to_pydict()
    assert columns["id"] == world.observations
    assert columns["result"] == [20.5, 21.0, -3.25, 1e-07]
    assert columns["phenomenonTimeStart"][3] == datetime(2024, 1, 1, 3, 0, 0, 500000, tzinfo=UTC)
    assert columns["phenomenonTimeEnd"][:3] == [None, None, datetime(2024, 1, 1, 2, 30, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("kind", "results", "arrow", "expected"),
    [
        ("OM_CountObservation", [3, 0, -7], pa.int64(), [3, 0, -7]),
        ("OM_TruthObservation", [True, False], pa.bool_(), [True, False]),
        ("OM_CategoryObservation", ["a,b", 'say "x"'], pa.string(), ["a,b", 'say "x"']),
        ("OM_Observation", [1, "x", {"a": [1]}, 2.5], pa.string(), ["1", "x", {"a": [1]}, "2.5"]),
    ],
)
def test_result_types(hub, kind, results, arrow, expected):
    times = [f"2024-02-01T0{index}:00:00Z" for index in range(len(results))]
    body = datastream_body(
        "typed",
        [observation(r, t) for r, t in zip(results, times, strict=True)],
        OBSERVATION_TYPE + kind,
    )
    datastream = create_thing(hub, "Typed", datastreams=[body]).datastreams[0]
    table = _parquet(hub.get(datastream_download("", datastream, "parquet")))
    assert table.schema.field("result").type == arrow
    assert [_parsed(value) for value in table.column("result").to_pylist()] == expected
    rows = _csv(hub.get(datastream_download("", datastream, "csv")))
    in_csv = ["true", "false"] if kind == "OM_TruthObservation" else expected
    assert [_parsed(row["result"]) for row in rows] == [
        v if isinstance(v, dict) else str(v) for v in in_csv
    ]
    features = orjson.loads(hub.get(datastream_download("", datastream, "geojson")).content)
    assert [f["properties"]["result"] for f in features["features"]] == results


def _parsed(value):
    """A JSON object's text as the object (its spacing differs between the backends)."""
    return orjson.loads(value) if isinstance(value, str) and value.startswith("{") else value


def test_batches_join_up(hub, world, monkeypatch):
    """Read and written in batches smaller than the data: nothing lost, nothing twice."""
    for name in ("BATCH_ROWS", "ROW_GROUP_ROWS"):
        monkeypatch.setattr(observations, name, 3)
        monkeypatch.setattr(collections, name, 2)
    rows = _csv(hub.get(datastream_download("", world.datastream, "csv")))
    assert [int(row["id"]) for row in rows] == world.observations
    document = orjson.loads(hub.get(datastream_download("", world.datastream, "geojson")).content)
    assert [feature["id"] for feature in document["features"]] == world.observations
    response = hub.get(datastream_download("", world.datastream, "parquet"))
    assert pq.ParquetFile(io.BytesIO(response.content)).num_row_groups == 2
    assert _parquet(response).column("id").to_pylist() == world.observations
    assert len(_csv(hub.get(collection_download("", "toiletten", "csv")))) == 3
    document = orjson.loads(hub.get(collection_download("", "toiletten", "geojson")).content)
    assert len(document["features"]) == 3
    assert _parquet(hub.get(collection_download("", "toiletten", "parquet"))).num_rows == 3


# --- MultiDatastreams -------------------------------------------------------------------------

MEASURED, COUNTED, TRUTH, CATEGORY, ANY = (
    OBSERVATION_TYPE + kind
    for kind in (
        "OM_Measurement",
        "OM_CountObservation",
        "OM_TruthObservation",
        "OM_CategoryObservation",
        "OM_Observation",
    )
)
#: A weather mast's components: (ObservedProperty, multiObservationDataType). Two share a
#: name but for case, so both get their position.
COMPONENTS = [
    ("Temperatur", MEASURED),
    ("Zähler", COUNTED),
    ("Regen", TRUTH),
    ("Wetterlage", CATEGORY),
    ("Details", ANY),
    ("temperatur", MEASURED),
]
COLUMN_NAMES = ["Temperatur_0", "Zähler", "Regen", "Wetterlage", "Details", "temperatur_5"]
RESULTS = [
    [12.5, 3, True, "sonnig, klar", {"wind": [3, "NW"]}, 12],
    [-0.25, 0, False, 'Nebel "dicht"', None, 1e-07],
    [7, 12, True, "bewölkt", "Text", 7.5],
    [8.0, 2, False, "Regen", True, -1],
]
MULTI_TIMES = [
    "2024-03-01T00:00:00Z",
    "2024-03-01T01:00:00Z",
    "2024-03-01T02:00:00Z/2024-03-01T02:30:00Z",
    "2024-03-01T03:00:00Z",
]


def multi_body(name: str, results: list[list], components=COMPONENTS) -> dict:
    """A MultiDatastream with new ObservedProperties, one per component, and Observations."""
    observations_ = [observation(r, t) for r, t in zip(results, MULTI_TIMES, strict=False)]
    if observations_:
        observations_[0]["resultTime"] = "2024-03-01T00:00:05Z"
    return {
        "name": name,
        "description": f"multi datastream {name}",
        "observationType": OBSERVATION_TYPE + "OM_ComplexObservation",
        "unitOfMeasurements": [{"name": "unit", "symbol": ""} for _ in components],
        "multiObservationDataTypes": [kind for _, kind in components],
        "Sensor": {
            "name": f"sensor of {name}",
            "description": "a mast",
            "encodingType": "application/pdf",
            "metadata": "https://example.org/mast.pdf",
        },
        "ObservedProperties": [
            {"name": prop, "definition": f"https://example.org/def/{i}", "description": prop}
            for i, (prop, _) in enumerate(components)
        ],
        "Observations": observations_,
    }


@dataclass
class Mast:
    multi: int
    observations: list[int]
    secret: int


@pytest.fixture
def mast(hub, world) -> Mast:
    """A public Thing with the MultiDatastream of ``COMPONENTS`` and a restricted one."""

    def thing_with(name: str, dataset: str, body: dict, where: tuple[float, float]) -> int:
        thing = {
            "name": name,
            "description": f"thing {name}",
            "properties": {"dataset": dataset},
            "Locations": [location_body(name, where)],
            "MultiDatastreams": [body],
        }
        created = created_id(hub.post(f"{V}/Things", thing))
        return all_ids(hub, f"{V}/Things({created})/MultiDatastreams", hub.admin)[0]

    multi = thing_with("Mast", "offen", multi_body("Wetter", RESULTS), (7.05, 51.17))
    secret_results = [[1.5, 1, True, "x", None, 2]]
    secret = thing_with("Dach", "intern", multi_body("Intern", secret_results), (7.1, 51.2))
    ids = all_ids(hub, f"{V}/MultiDatastreams({multi})/Observations")
    return Mast(multi, ids, secret)


def test_multi_datastream_csv(hub, mast):
    response = hub.get(multi_datastream_download("", mast.multi, "csv"))
    rows = _csv(response)
    assert list(rows[0]) == [*observations.TIME_COLUMNS, *COLUMN_NAMES]
    assert [int(row["id"]) for row in rows] == mast.observations
    assert [row["phenomenonTimeStart"] for row in rows] == [
        f"2024-03-01T0{hour}:00:00.000000Z" for hour in range(4)
    ]
    assert rows[0]["resultTime"] == "2024-03-01T00:00:05.000000Z"
    assert [row["phenomenonTimeEnd"] for row in rows] == ["", "", "2024-03-01T02:30:00.000000Z", ""]
    assert [float(row["Temperatur_0"]) for row in rows] == [12.5, -0.25, 7, 8]
    assert [row["Zähler"] for row in rows] == ["3", "0", "12", "2"]
    assert [row["Regen"] for row in rows] == ["true", "false", "true", "false"]
    assert [row["Wetterlage"] for row in rows] == [
        "sonnig, klar",
        'Nebel "dicht"',
        "bewölkt",
        "Regen",
    ]
    assert [_parsed(row["Details"]) for row in rows] == [{"wind": [3, "NW"]}, "", "Text", "true"]
    assert [float(row["temperatur_5"]) for row in rows] == [12, 1e-07, 7.5, -1]
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="multidatastream-{mast.multi}.csv"'
    assert response.headers["cache-control"] == "public, max-age=60"


def test_multi_datastream_geojson(hub, mast):
    response = hub.get(multi_datastream_download("", mast.multi, "geojson"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    features = orjson.loads(response.content)["features"]
    assert [f["id"] for f in features] == mast.observations
    assert {orjson.dumps(f["geometry"]) for f in features} == {
        orjson.dumps({"type": "Point", "coordinates": [7.05, 51.17]})
    }
    assert features[0]["properties"] == {
        "phenomenonTimeStart": "2024-03-01T00:00:00.000000Z",
        "phenomenonTimeEnd": None,
        "resultTime": "2024-03-01T00:00:05.000000Z",
        **dict(zip(COLUMN_NAMES, RESULTS[0], strict=True)),
    }
    for feature, result in zip(features, RESULTS, strict=True):
        assert [feature["properties"][name] for name in COLUMN_NAMES] == result


def test_multi_datastream_parquet(hub, mast, monkeypatch):
    monkeypatch.setattr(observations, "ROW_GROUP_ROWS", 3)
    response = hub.get(multi_datastream_download("", mast.multi, "parquet"))
    assert pq.ParquetFile(io.BytesIO(response.content)).num_row_groups == 2
    table = _parquet(response)
    types = {field.name: field.type for field in table.schema}
    assert list(types) == [*observations.TIME_COLUMNS, *COLUMN_NAMES]
    assert types["phenomenonTimeStart"] == pa.timestamp("us", tz="UTC")
    assert [types[name] for name in COLUMN_NAMES] == [
        pa.float64(),
        pa.int64(),
        pa.bool_(),
        pa.string(),
        pa.string(),
        pa.float64(),
    ]
    columns = table.to_pydict()
    assert columns["id"] == mast.observations
    assert columns["phenomenonTimeEnd"][2] == datetime(2024, 3, 1, 2, 30, tzinfo=UTC)
    assert columns["Temperatur_0"] == [12.5, -0.25, 7.0, 8.0]
    assert columns["Zähler"] == [3, 0, 12, 2]
    assert columns["Regen"] == [True, False, True, False]
    assert columns["Wetterlage"] == ["sonnig, klar", 'Nebel "dicht"', "bewölkt", "Regen"]
    assert [_parsed(v) for v in columns["Details"]] == [{"wind": [3, "NW"]}, None, "Text", "true"]
    assert columns["temperatur_5"] == [12.0, 1e-07, 7.5, -1.0]


def test_multi_datastream_time_range(hub, mast):
    url = multi_datastream_download("", mast.multi, "csv")
    params = {"from": "2024-03-01T01:00:00Z", "to": "2024-03-01T03:30:00+01:00"}
    assert [int(row["id"]) for row in _csv(hub.get(url, params=params))] == mast.observations[1:3]
    table = _parquet(
        hub.get(
            multi_datastream_download("", mast.multi, "parquet"),
            params={"from": "2024-03-01T02:00:00.000001Z"},
        )
    )
    assert table.column("id").to_pylist() == mast.observations[3:]
    document = hub.get(
        multi_datastream_download("", mast.multi, "geojson"), params={"to": "2024-03-01T00:00:00Z"}
    )
    assert orjson.loads(document.content)["features"] == []
    _error(hub.get(url, params={"from": "gestern"}), 400, "'from'")
    _error(hub.get(url, params={"limit": "5"}), 400, "'limit'")


def test_multi_datastream_results_that_do_not_fit_their_types(hub, mast):
    """Components whose type changed after Observations were made, and results shorter than
    the components (the lists were lengthened): Parquet has null where a value does not fit
    its column, CSV and GeoJSON write it as it is."""
    kinds = [ANY, COUNTED, TRUTH]
    body = multi_body("Gewandelt", [["a", 2.5, 1], ["b", 3, None]], [(n, ANY) for n in "xyz"])
    thing = hub.get(f"{V}/MultiDatastreams({mast.multi})/Thing").json()["@iot.id"]
    body["Thing"] = {"@iot.id": thing}
    multi = created_id(hub.post(f"{V}/MultiDatastreams", body))
    properties = hub.get(f"{V}/MultiDatastreams({multi})/ObservedProperties").json()["value"]
    extra = {"name": "w", "definition": "https://example.org/def/w", "description": "w"}
    extra = {"@iot.id": created_id(hub.post(f"{V}/ObservedProperties", extra))}
    changed = {
        "multiObservationDataTypes": [*kinds, MEASURED],
        "unitOfMeasurements": [{"name": "unit", "symbol": ""}] * 4,
        "ObservedProperties": [*({"@iot.id": p["@iot.id"]} for p in properties), extra],
    }
    response = hub.patch(f"{V}/MultiDatastreams({multi})", changed)
    assert response.status_code == 200, response.text
    table = _parquet(hub.get(multi_datastream_download("", multi, "parquet")))
    assert table.column_names[4:] == ["x", "y", "z", "w"]
    assert table.column("y").to_pylist() == [None, 3]  # 2.5 is no count
    assert table.column("z").to_pylist() == [None, None]  # 1 and null are no booleans
    assert table.column("w").to_pylist() == [None, None]  # past the end of the results
    rows = _csv(hub.get(multi_datastream_download("", multi, "csv")))
    assert [(row["x"], row["y"], row["z"], row["w"]) for row in rows] == [
        ("a", "2.5", "1", ""),
        ("b", "3", "", ""),
    ]
    features = orjson.loads(hub.get(multi_datastream_download("", multi, "geojson")).content)
    assert [f["properties"]["y"] for f in features["features"]] == [2.5, 3]
    assert [f["properties"]["w"] for f in features["features"]] == [None, None]


def test_multi_datastream_validators(hub, mast):
    url = multi_datastream_download("", mast.multi, "csv")
    first = hub.get(url)
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    assert tag.startswith('W/"')
    assert modified == "Fri, 01 Mar 2024 03:00:00 GMT"
    again = hub.get(url, headers={"If-None-Match": tag})
    assert (again.status_code, again.content) == (304, b"")
    assert hub.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert hub.get(multi_datastream_download("", mast.multi, "parquet")).headers["etag"] != tag
    assert hub.get(url, params={"from": "2024-03-01T01:00:00Z"}).headers["etag"] != tag
    # An Observation within the span the MultiDatastream keeps: counted all the same.
    body = {"result": RESULTS[0], "phenomenonTime": "2024-03-01T00:30:00Z"}
    response = hub.post(f"{V}/MultiDatastreams({mast.multi})/Observations", body)
    added = created_id(response)
    changed = hub.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert [int(row["id"]) for row in _csv(changed)][1] == added
    later = changed.headers["etag"]
    assert hub.delete(f"{V}/Observations({added})").status_code == 200
    assert hub.get(url, headers={"If-None-Match": later}).status_code == 200
    # A renamed ObservedProperty renames its column.
    prop = hub.get(f"{V}/MultiDatastreams({mast.multi})/ObservedProperties").json()["value"][1]
    renamed = hub.patch(f"{V}/ObservedProperties({prop['@iot.id']})", {"name": "Zählung"})
    assert renamed.status_code == 200, renamed.text
    current = hub.get(url)
    assert current.headers["etag"] not in (tag, later)
    assert "Zählung" in _csv(current)[0]


def test_multi_datastream_restricted_needs_a_token_that_may_read_it(hub, mast, world):
    for ext in ("csv", "geojson", "parquet"):
        url = multi_datastream_download("", mast.secret, ext)
        _error(hub.get(url), 404, f"no MultiDatastream {mast.secret}")
        assert hub.request("HEAD", url).status_code == 404
        response = hub.get(url, headers=world.reader)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"].startswith("private")
    rows = _csv(hub.get(multi_datastream_download("", mast.secret, "csv"), headers=world.reader))
    assert [row["Temperatur_0"] for row in rows] == ["1.5"]
    assert hub.get(multi_datastream_download("", mast.secret, "csv"), headers=hub.admin).is_success


def test_unknown_multi_datastreams(hub, mast):
    _error(hub.get(multi_datastream_download("", 999_999, "csv")), 404, "no MultiDatastream 999999")
    _error(hub.get("/downloads/multidatastreams/abc.csv"), 404, "whole numbers")
    _error(hub.get(f"/downloads/multidatastreams/{mast.multi}.xlsx"), 404, "csv, geojson, parquet")


@pytest.mark.parametrize(
    ("names", "columns"),
    [
        (["Temperatur", "Feuchte"], ["Temperatur", "Feuchte"]),
        (["Temperatur", "temperatur", "Feuchte"], ["Temperatur_0", "temperatur_1", "Feuchte"]),
        (["id", "resultTime", "Wert"], ["id_0", "resultTime_1", "Wert"]),
        (["a\nb", "\tc  d ", "", "   "], ["a b", "c d", "component_2", "component_3"]),
        (["x", "x", "x_1"], ["x_0", "x_1_1", "x_1"]),
    ],
)
def test_component_names(names, columns):
    assert component_names(names) == columns


def test_multi_datastream_downloads_are_listed(hub, mast):
    """In the DCAT-AP.de catalog, as CKAN resources, on the portal's dataset page and in the
    OpenAPI document; the restricted one nowhere."""
    graph = Graph().parse(data=hub.get("/catalog.ttl").content, format="turtle")
    downloads = {str(url) for url in graph.objects(None, DCAT.downloadURL)}
    for ext in ("csv", "geojson", "parquet"):
        assert multi_datastream_download("http://testserver", mast.multi, ext) in downloads
    assert not any(f"/multidatastreams/{mast.secret}." in url for url in downloads)
    package = hub.get("/api/3/action/package_show", params={"id": "offen"}).json()["result"]
    urls = {resource["url"] for resource in package["resources"]}
    assert multi_datastream_download("http://testserver", mast.multi, "parquet") in urls
    page = hub.get("/datasets/offen").text
    csv_url = multi_datastream_download("http://testserver", mast.multi, "csv")
    assert f'href="{csv_url}"' in page
    assert "Temperatur, Zähler, Regen, Wetterlage, Details, temperatur" in page
    assert f"/v1.1/MultiDatastreams({mast.multi})" in page
    paths = hub.get("/api/openapi.json").json()["paths"]
    assert "/downloads/multidatastreams/{id}.{ext}" in paths


# --- collections ------------------------------------------------------------------------------


def test_collection_csv(hub, world):
    response = hub.get(collection_download("", "toiletten", "csv"))
    rows = _csv(response)
    header = ["id", "fee", "hours", "properties.id", "name", "open", "seats", "tags"]
    assert list(rows[0]) == [*header, "geometry", "lon", "lat"]
    market, park, station = rows
    assert market["name"] == "Markt"
    assert market["seats"] == "2"
    assert market["open"] == "true"
    assert orjson.loads(market["tags"]) == ["wc"]
    assert market["fee"] == ""
    assert market["geometry"] == "POINT (7.0833 51.1657)"
    assert (float(market["lon"]), float(market["lat"])) == (7.0833, 51.1657)
    assert park["name"] == "Park, Nord"
    assert orjson.loads(park["hours"]) == {"mo": "8-18"}
    assert shapely.from_wkt(park["geometry"]).equals(shapely.box(7.08, 51.17, 7.09, 51.18))
    assert park["lon"] == park["lat"] == ""
    assert station["name"] == 'Bahnhof "Mitte"'
    assert station["properties.id"] == "B-1"
    assert station["geometry"] == ""
    assert int(market["id"]) < int(park["id"]) < int(station["id"])
    assert response.headers["content-disposition"] == 'attachment; filename="toiletten.csv"'


def test_collection_geojson(hub, world):
    response = hub.get(collection_download("", "toiletten", "geojson"))
    assert response.status_code == 200, response.text
    document = orjson.loads(response.content)
    features = document["features"]
    assert [f["properties"]["name"] for f in features] == ["Markt", "Park, Nord", 'Bahnhof "Mitte"']
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [7.0833, 51.1657]}
    assert features[1]["properties"]["hours"] == {"mo": "8-18"}
    assert features[2]["geometry"] is None


def test_collection_parquet_whole_numbers_beyond_int64(hub):
    """JSON's whole numbers have no bound; one an int64 column cannot hold is missing there,
    and the download is whole."""
    dataset = hub.store.write_blocking(
        lambda connection: datasets.create_dataset(
            connection, slug="gross", title="Gross", licence="cc-zero"
        )
    )
    zaehler = add_collection(hub, dataset, "zaehler")
    add_features(
        hub,
        zaehler,
        [
            {"geometry": point(7.08, 51.17), "properties": {"count": 18446744073709551615}},
            {"geometry": point(7.09, 51.18), "properties": {"count": 2}},
        ],
    )
    table = _parquet(hub.get(collection_download("", "zaehler", "parquet")))
    assert table.schema.field("count").type == pa.int64()
    assert table.column("count").to_pylist() == [None, 2]


def test_collection_parquet(hub, world):
    table = _parquet(hub.get(collection_download("", "toiletten", "parquet")))
    assert table.num_rows == 3
    geo = orjson.loads(table.schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    types = {field.name: field.type for field in table.schema}
    assert types["seats"] == pa.int64()
    assert types["fee"] == pa.float64()
    assert types["open"] == pa.bool_()
    assert types["tags"] == pa.string()
    columns = table.to_pydict()
    assert columns["seats"] == [2, None, None]
    assert columns["open"] == [True, None, None]
    assert columns["tags"] == ['["wc"]', None, None]
    shapes = shapely.from_wkb(columns["geometry"])
    assert shapes[0].equals(shapely.Point(7.0833, 51.1657))
    assert shapes[2] is None


# --- the sensors collection -----------------------------------------------------------------

TEMPERATURE, LEVEL, CO2 = "property of temperature", "property of level", "property of co2"


@pytest.fixture
def gauge(hub, world) -> int:
    """A second public Thing with a Location: a river gauge with a property of its own."""
    return create_thing(
        hub,
        "Pegel",
        datastreams=[
            datastream_body(
                "level",
                [observation(2.5, "2024-01-02T00:00:00Z"), observation(2, "2024-01-01T00:00:00Z")],
            )
        ],
        location=location_body("Wupper", (7.05, 51.15)),
        properties={"dataset": "offen", "river": "Wupper"},
    ).thing


def _by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def test_sensors_csv(hub, world, gauge):
    response = hub.get(collection_download("", "sensors", "csv"))
    rows = _by_name(_csv(response))
    assert set(rows) == {"Wetter", "Pegel"}  # "Innen" is restricted
    header = list(rows["Wetter"])
    assert header[:3] == ["id", "name", "description"]
    assert header[-3:] == ["geometry", "lon", "lat"]
    assert header.index("river") < header.index(LEVEL)
    for name in (LEVEL, TEMPERATURE):
        assert header.index(name) + 1 == header.index(f"{name}.phenomenonTime")
    assert CO2 not in header
    weather, river = rows["Wetter"], rows["Pegel"]
    assert float(weather[TEMPERATURE]) == 1e-07
    assert weather[f"{TEMPERATURE}.phenomenonTime"] == "2024-01-01T03:00:00.5Z"
    assert weather[LEVEL] == weather["river"] == ""
    assert weather["description"] == "thing Wetter"
    assert weather["geometry"] == "POINT (7.0833 51.1657)"
    assert (float(weather["lon"]), float(weather["lat"])) == (7.0833, 51.1657)
    assert float(river[LEVEL]) == 2.5  # the latest by phenomenonTime, not the last written
    assert river[f"{LEVEL}.phenomenonTime"] == "2024-01-02T00:00:00Z"
    assert river["river"] == "Wupper"
    assert int(river["id"]) == gauge
    assert int(weather["id"]) < gauge
    assert response.headers["content-disposition"] == 'attachment; filename="sensors.csv"'
    assert response.headers["cache-control"].startswith("public")


def test_sensors_geojson(hub, world, gauge):
    response = hub.get(collection_download("", "sensors", "geojson"))
    assert response.status_code == 200, response.text
    features = {f["properties"]["name"]: f for f in orjson.loads(response.content)["features"]}
    assert set(features) == {"Wetter", "Pegel"}
    river = features["Pegel"]
    assert river["id"] == gauge
    assert river["geometry"] == {"type": "Point", "coordinates": [7.05, 51.15]}
    assert river["properties"]["river"] == "Wupper"
    assert river["properties"][LEVEL] == 2.5
    detail = river["properties"]["live"][LEVEL]
    assert detail["phenomenonTime"] == "2024-01-02T00:00:00Z"
    assert detail["unit"] == "degC"
    # As OGC API – Features serves it.
    served = hub.get(f"/features/collections/sensors/items/{gauge}").json()
    assert served["properties"] == river["properties"]


def test_sensors_parquet(hub, world, gauge, monkeypatch):
    monkeypatch.setattr(sensors, "BATCH_ROWS", 1)
    response = hub.get(collection_download("", "sensors", "parquet"))
    assert pq.ParquetFile(io.BytesIO(response.content)).num_row_groups == 2
    table = _parquet(response)
    assert orjson.loads(table.schema.metadata[b"geo"])["columns"]["geometry"]["encoding"] == "WKB"
    types = {field.name: field.type for field in table.schema}
    assert types[LEVEL] == types[TEMPERATURE] == pa.float64()
    assert types[f"{LEVEL}.phenomenonTime"] == pa.string()
    columns = table.to_pydict()
    assert columns["name"] == ["Wetter", "Pegel"]
    assert columns[TEMPERATURE] == [1e-07, None]
    assert columns[LEVEL] == [None, 2.5]
    assert columns["river"] == [None, "Wupper"]
    assert shapely.from_wkb(columns["geometry"][1]).equals(shapely.Point(7.05, 51.15))


def test_sensors_restricted_thing_needs_a_token_that_may_read_it(hub, world):
    url = collection_download("", "sensors", "csv")
    assert set(_by_name(_csv(hub.get(url)))) == {"Wetter"}
    response = hub.get(url, headers=hub.admin)
    rows = _by_name(_csv(response))
    assert set(rows) == {"Wetter", "Innen"}
    assert float(rows["Innen"][CO2]) == 612
    assert rows["Wetter"][CO2] == ""
    assert response.headers["cache-control"].startswith("private")
    assert response.headers["etag"] != hub.get(url).headers["etag"]
    document = orjson.loads(hub.get(collection_download("", "sensors", "geojson")).content)
    assert [f["properties"]["name"] for f in document["features"]] == ["Wetter"]


def test_sensors_validators(hub, world):
    url = collection_download("", "sensors", "parquet")
    first = hub.get(url)
    tag = first.headers["etag"]
    assert first.headers["last-modified"] == "Mon, 01 Jan 2024 03:00:00 GMT"
    assert hub.get(url, headers={"If-None-Match": tag}).status_code == 304
    assert hub.get(collection_download("", "sensors", "csv")).headers["etag"] != tag
    _observe(hub, world.datastream, 5, "2024-01-01T04:00:00Z")
    changed = hub.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert _parquet(changed).column(TEMPERATURE).to_pylist() == [5]
    create_thing(hub, "Neu", location=location_body("Neu", (7.0, 51.1)))
    assert hub.get(url, headers={"If-None-Match": changed.headers["etag"]}).status_code == 200


# --- validators ---------------------------------------------------------------------------------


def test_datastream_validators(hub, world):
    url = datastream_download("", world.datastream, "csv")
    first = hub.get(url)
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    assert tag.startswith('W/"')
    assert modified == "Mon, 01 Jan 2024 03:00:00 GMT"
    again = hub.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert hub.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert hub.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # Another range is another download.
    ranged = hub.get(url, params={"from": "2024-01-01T01:00:00Z"})
    assert ranged.headers["etag"] != tag
    _observe(hub, world.datastream, 5, "2024-01-01T04:00:00Z")
    changed = hub.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert len(_csv(changed)) == 5
    assert hub.get(url, headers={"If-Modified-Since": modified}).status_code == 200


def test_collection_validators(hub, world):
    url = collection_download("", "toiletten", "geojson")
    tag = hub.get(url).headers["etag"]
    assert hub.get(url, headers={"If-None-Match": f'"x", {tag}'}).status_code == 304
    other = hub.get(collection_download("", "toiletten", "csv")).headers["etag"]
    assert other != tag
    collection = hub.get("/features/collections/toiletten/items").json()["features"][0]
    assert collection["properties"]["name"] == "Markt"
    body = {"type": "Feature", "geometry": point(7.07, 51.16), "properties": {"name": "Neu"}}
    response = hub.post("/features/collections/toiletten/items", body)
    assert response.status_code == 201, response.text
    changed = hub.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert len(changed.json()["features"]) == 4


def test_head(hub, world):
    response = hub.request("HEAD", datastream_download("", world.datastream, "parquet"))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["etag"]
    assert "content-length" not in response.headers


# --- access -------------------------------------------------------------------------------------


def test_restricted_is_absent_without_a_token_that_may_read_it(hub, world):
    secret_urls = [
        collection_download("", "geheim", "csv"),
        datastream_download("", world.secret_datastream, "geojson"),
    ]
    for url in secret_urls:
        _error(hub.get(url), 404, "no ")
        response = hub.get(url, headers=world.reader)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"].startswith("private")
        assert hub.get(url, headers=hub.admin).status_code == 200
    rows = _csv(
        hub.get(datastream_download("", world.secret_datastream, "csv"), headers=world.reader)
    )
    assert [row["result"] for row in rows] == ["612"]


# --- errors ---------------------------------------------------------------------------------------


def test_bad_parameters(hub, world):
    url = datastream_download("", world.datastream, "csv")
    _error(hub.get(url, params={"from": "yesterday"}), 400, "'from'")
    _error(hub.get(url, params={"to": "2024-01-01"}), 400, "'to'")
    _error(hub.get(url, params={"to": "2024-01-01T00:00:00"}), 400, "'to'", "offset")
    _error(
        hub.get(url, params={"from": "2024-01-02T00:00:00Z", "to": "2024-01-01T00:00:00Z"}),
        400,
        "'from'",
    )
    _error(hub.get(url, params={"limit": "5"}), 400, "'limit'")
    _error(
        hub.get(collection_download("", "toiletten", "csv"), params={"from": "x"}),
        400,
        "'from'",
        "it takes none",
    )


def test_unknown_downloads(hub, world):
    _error(hub.get("/downloads/collections/nirgends.csv"), 404, "nirgends")
    _error(hub.get("/downloads/collections/toiletten.xlsx"), 404, "csv, geojson, parquet")
    _error(hub.get("/downloads/collections/toiletten"), 404)
    _error(hub.get("/downloads/datastreams/999999.csv"), 404, "999999")
    _error(hub.get("/downloads/datastreams/abc.csv"), 404, "abc")
    _error(hub.get("/downloads/datastreams/\u00b2.csv"), 404, "whole numbers")


def test_unreadable_conditions_are_ignored(hub, world):
    for url in (
        datastream_download("", world.datastream, "csv"),
        collection_download("", "toiletten", "csv"),
        collection_download("", "sensors", "csv"),
    ):
        for headers in (
            {"If-Modified-Since": "nonsense"},
            {"If-Modified-Since": "Mon, 01 Jan 99999 00:00:00 GMT"},
            {"If-None-Match": "nonsense"},
            {"If-None-Match": ', ,W/"a"'},
        ):
            assert hub.get(url, headers=headers).status_code == 200
            assert hub.request("HEAD", url, headers=headers).status_code == 200


# --- streaming ------------------------------------------------------------------------------------


def _scope(path: str, spec_version: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


@pytest.mark.parametrize("spec_version", ["2.0", "2.4"])
def test_a_client_gone_mid_download_ends_its_transaction(hub, world, monkeypatch, spec_version):
    """The client goes away after the first rows: as a disconnect message (ASGI < 2.4) or a
    failing send (2.4); either way the download's connection is back in the pool at once."""
    monkeypatch.setattr(observations, "BATCH_ROWS", 1)
    path = datastream_download("", world.datastream, "csv")
    pool = hub.store.read_engine.pool
    idle = pool.checkedout()  # the writer's own connection, where it shares the engine
    bodies: list[bytes] = []

    async def request() -> None:
        gone = anyio.Event()

        async def receive() -> dict:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] != "http.response.body":
                return
            bodies.append(message["body"])
            if len(bodies) == 2:
                gone.set()
                if spec_version == "2.4":
                    raise OSError("connection reset by peer")
                await anyio.sleep(0.5)  # the disconnect is noticed meanwhile

        with contextlib.suppress(ClientDisconnect):
            await hub.app(_scope(path, spec_version), receive, send)

    hub.portal.call(request)
    assert bodies[0].startswith(b"id,phenomenonTimeStart")
    assert 2 <= len(bodies) < 5  # header, some rows, and not the whole download
    assert pool.checkedout() == idle


@pytest.fixture
def two_downloads_hub(backend_settings) -> Iterator[HubClient]:
    """A hub that streams at most two downloads at once."""
    client = HubClient(backend_settings.model_copy(update={"max_concurrent_downloads": 2}))
    yield client
    client.close()


def test_downloads_beyond_the_limit_are_told_to_come_back(two_downloads_hub, monkeypatch):
    """Two slow clients hold both places (and a connection each): a third download is a 503
    with Retry-After, the APIs still answer, and once the two end the places are free."""
    hub = two_downloads_hub
    monkeypatch.setattr(observations, "BATCH_ROWS", 1)
    thing = create_thing(hub, "Pegel", datastreams=[datastream_body("level", TEMPERATURES)])
    path = datastream_download("", thing.datastreams[0], "csv")
    pool = hub.store.read_engine.pool
    idle = pool.checkedout()
    answers: dict[str, httpx.Response] = {}
    finished: list[bytes] = []

    async def slow_client(started: anyio.Event, go_on: anyio.Event) -> None:
        body = bytearray()

        async def receive() -> dict:
            await anyio.sleep_forever()
            return {}  # pragma: no cover

        async def send(message: dict) -> None:
            if message["type"] != "http.response.body":
                return
            body.extend(message["body"])
            if not started.is_set():
                started.set()
                await go_on.wait()  # the client reads no further until told to

        await hub.app(_scope(path, "2.4"), receive, send)
        finished.append(bytes(body))

    async def scenario() -> None:
        go_on = anyio.Event()
        async with anyio.create_task_group() as group:
            for _ in range(2):
                started = anyio.Event()
                group.start_soon(slow_client, started, go_on)
                await started.wait()
            answers["third"] = await hub.client.get(path)
            answers["api"] = await hub.client.get(f"{V}/Datastreams")
            go_on.set()
        answers["after"] = await hub.client.get(path)

    hub.portal.call(scenario)
    _error(answers["third"], 503, "2 downloads are running", "try again in 10 seconds")
    assert answers["third"].headers["retry-after"] == "10"
    assert answers["api"].status_code == 200
    assert len(finished) == 2
    assert all(body.count(b"\n") == len(TEMPERATURES) + 1 for body in finished)
    assert len(_csv(answers["after"])) == len(TEMPERATURES)
    assert pool.checkedout() == idle


def test_refused_and_failed_downloads_free_their_place(two_downloads_hub):
    """Not found, 304 and HEAD end at once: many of them in a row never fill the places."""
    hub = two_downloads_hub
    thing = create_thing(hub, "Pegel", datastreams=[datastream_body("level", TEMPERATURES)])
    path = datastream_download("", thing.datastreams[0], "csv")
    tag = hub.get(path).headers["etag"]
    for _ in range(3):
        assert hub.get(datastream_download("", 999_999, "csv")).status_code == 404
        assert hub.get(path, headers={"If-None-Match": tag}).status_code == 304
        assert hub.request("HEAD", path).status_code == 200
    assert hub.get(path).status_code == 200
