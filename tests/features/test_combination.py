"""Sensors as features, live features, "what is near me" and "what lies in this district",
on both backends."""

from __future__ import annotations

import math

import pytest
from tests.features.helpers import add_collection, add_dataset, add_features, box, point
from tests.sensorthings.helpers import create_thing, location_body, observation

from cityhub.store.dialects import metres_per_degree

F = "/features"
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def _stream(property_name: str, unit: str, values: list[tuple[float, str]]) -> dict:
    return {
        "name": f"{property_name} stream",
        "description": property_name,
        "unitOfMeasurement": {"name": unit, "symbol": unit, "definition": "ucum:1"},
        "observationType": MEASUREMENT,
        "Sensor": {
            "name": "Zähler",
            "description": "counter",
            "encodingType": "application/pdf",
            "metadata": "https://example.org/zaehler.pdf",
        },
        "ObservedProperty": {
            "name": property_name,
            "definition": f"https://example.org/def/{property_name}",
            "description": property_name,
        },
        "Observations": [observation(value, time) for value, time in values],
    }


def _garage(hub, name: str, free: int, where: tuple[float, float], **extra):
    values = [(free + 5, "2026-01-01T08:00:00Z"), (free, "2026-01-01T09:00:00Z")]
    return create_thing(
        hub,
        name,
        datastreams=[_stream("free", "Stellplätze", values)],
        location=location_body(name, where),
        **extra,
    )


@pytest.fixture
def garages(hub):
    collection = add_collection(hub, add_dataset(hub, "parken"), "parkhaeuser")
    mitte = _garage(hub, "Parkhaus Mitte", 42, (7.08, 51.17))
    sued = _garage(hub, "Parkhaus Süd", 3, (7.09, 51.16))
    ids = add_features(
        hub,
        collection,
        [
            {
                "geometry": point(7.08, 51.17),
                "properties": {"name": "Mitte", "free": -1},
                "thing_id": mitte.thing,
            },
            {"geometry": point(7.09, 51.16), "properties": {"name": "Süd"}, "thing_id": sued.thing},
            {"geometry": point(7.10, 51.15), "properties": {"name": "Ohne Sensor"}},
        ],
    )
    return ids, mitte, sued


def test_every_thing_with_a_location_is_a_sensor_feature_with_its_latest_values(hub, garages):
    _, mitte, _ = garages
    response = hub.get(F + "/collections/sensors/items")
    assert response.status_code == 200, response.text
    features = {f["properties"]["name"]: f for f in response.json()["features"]}
    assert set(features) == {"Parkhaus Mitte", "Parkhaus Süd"}
    feature = features["Parkhaus Mitte"]
    assert feature["id"] == mitte.thing
    assert feature["geometry"] == point(7.08, 51.17)
    assert feature["properties"]["free"] == 42
    assert feature["properties"]["live"]["free"]["unit"] == "Stellplätze"
    assert feature["properties"]["live"]["free"]["phenomenonTime"] == "2026-01-01T09:00:00Z"
    one = hub.get(f"{F}/collections/sensors/items/{mitte.thing}").json()
    assert one["properties"]["free"] == 42
    queryables = hub.get(F + "/collections/sensors/queryables").json()["properties"]
    assert queryables["free"]["type"] == "number"
    filtered = hub.get(F + "/collections/sensors/items", params={"filter": "free > 10"}).json()
    assert [f["id"] for f in filtered["features"]] == [mitte.thing]


def test_a_live_feature_carries_and_filters_on_its_things_latest_values(hub, garages):
    ids, _, _ = garages
    items = F + "/collections/parkhaeuser/items"
    features = hub.get(items).json()["features"]
    assert [f["properties"].get("free") for f in features] == [42, 3, None]
    assert "live" not in features[2]["properties"]
    assert hub.get(items, params={"filter": "free > 10"}).json()["features"][0]["id"] == ids[0]
    assert hub.get(items, params={"filter": "free gt 10"}).status_code == 400
    assert [f["id"] for f in hub.get(items, params={"free": "3"}).json()["features"]] == [ids[1]]
    new = hub.post(
        "/v1.1/Observations",
        {
            "result": 0,
            "phenomenonTime": "2026-01-01T10:00:00Z",
            "Datastream": {"@iot.id": garages[1].datastreams[0]},
        },
    )
    assert new.status_code == 201, new.text
    assert hub.get(f"{items}/{ids[0]}").json()["properties"]["free"] == 0


def test_a_thing_in_a_restricted_dataset_is_no_sensor_and_gives_no_live_values(hub):
    add_dataset(hub, "geheim", "restricted")
    secret = _garage(hub, "Geheim", 7, (7.08, 51.17), properties={"dataset": "geheim"})
    collection = add_collection(hub, add_dataset(hub, "offen"), "plaetze")
    (feature,) = add_features(
        hub, collection, [{"geometry": point(7.08, 51.17), "thing_id": secret.thing}]
    )
    assert hub.get(F + "/collections/sensors/items").json()["features"] == []
    assert hub.get(f"{F}/collections/sensors/items/{secret.thing}").status_code == 404
    shown = hub.get(f"{F}/collections/plaetze/items/{feature}").json()
    assert "free" not in shown["properties"]
    assert hub.get(F + "/collections/plaetze/queryables").json()["properties"].get("free") is None
    as_admin = hub.get(f"{F}/collections/plaetze/items/{feature}", headers=hub.admin).json()
    assert as_admin["properties"]["free"] == 7


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx, ky = metres_per_degree((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * ky)


@pytest.fixture
def toilets(hub):
    collection = add_collection(hub, add_dataset(hub, "wc"), "toiletten")
    places = [(7.08 + 0.002 * i, 51.17 + 0.001 * (i % 3)) for i in range(12)]
    ids = add_features(
        hub,
        collection,
        [{"geometry": point(*p), "properties": {"nr": i}} for i, p in enumerate(places)],
    )
    return dict(zip(ids, places, strict=True))


def test_nearby_returns_the_nearest_with_distances_in_metres(hub, toilets):
    here = (7.0905, 51.1712)
    expected = sorted(toilets, key=lambda i: _metres(here, toilets[i]))
    response = hub.get(
        F + "/nearby",
        params={"lon": here[0], "lat": here[1], "limit": 5, "collections": "toiletten"},
    )
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert [f["id"] for f in features] == expected[:5]
    for feature in features:
        assert feature["properties"]["distance"] == pytest.approx(
            _metres(here, toilets[feature["id"]]), abs=0.5
        )
        assert feature["properties"]["collection"] == "toiletten"
    # far away: the search widens until it finds them
    far = hub.get(F + "/nearby", params={"lon": 8.5, "lat": 52.0, "limit": 2}).json()
    assert len(far["features"]) == 2
    assert far["features"][0]["properties"]["distance"] > 100_000


def test_near_and_radius_on_items(hub, toilets):
    here = (7.08, 51.17)
    response = hub.get(
        F + "/collections/toiletten/items",
        params={"near": f"{here[0]},{here[1]}", "radius": 500, "limit": 100},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    inside = [i for i in toilets if _metres(here, toilets[i]) <= 500]
    expected = sorted(inside, key=lambda i: _metres(here, toilets[i]))
    assert [f["id"] for f in body["features"]] == expected
    assert body["numberMatched"] == len(inside)
    distances = [f["properties"]["distance"] for f in body["features"]]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(0, abs=0.01)
    assert hub.get(F + "/collections/toiletten/items", params={"radius": 5}).status_code == 400
    bad = hub.get(F + "/nearby", params={"lon": 200, "lat": 51})
    assert bad.status_code == 400


def test_items_within_a_district_and_counts_per_district(hub, toilets):
    districts = add_collection(hub, add_dataset(hub, "bezirke"), "stadtbezirke")
    west, ost, leer = add_features(
        hub,
        districts,
        [
            {"geometry": box(7.079, 51.169, 7.0875, 51.175), "properties": {"name": "West"}},
            {"geometry": box(7.0875, 51.169, 7.11, 51.175), "properties": {"name": "Ost"}},
            {"geometry": box(8.0, 52.0, 8.1, 52.1), "properties": {"name": "Leer"}},
        ],
    )
    items = F + "/collections/toiletten/items"
    in_west = hub.get(items, params={"within": f"stadtbezirke/{west}", "limit": 100}).json()
    expected = [i for i, (x, _) in toilets.items() if x < 7.0875]
    assert [f["id"] for f in in_west["features"]] == expected
    assert in_west["numberMatched"] == len(expected)
    counts = hub.get(F + "/collections/toiletten/counts", params={"within": "stadtbezirke"})
    assert counts.status_code == 200, counts.text
    by_name = {c["title"]: c["count"] for c in counts.json()["counts"]}
    assert by_name == {"West": len(expected), "Ost": 12 - len(expected), "Leer": 0}
    filtered = hub.get(
        F + "/collections/toiletten/counts", params={"within": "stadtbezirke", "filter": "nr < 2"}
    ).json()
    assert {c["title"]: c["count"] for c in filtered["counts"]}["West"] == 2
    assert hub.get(items, params={"within": "stadtbezirke/999"}).status_code == 400
    assert hub.get(items, params={"within": "nirgends/1"}).status_code == 400
    assert hub.get(items, params={"within": f"toiletten/{next(iter(toilets))}"}).status_code == 400
    assert ost
    assert leer


def test_sensors_within_a_district(hub, garages):
    _, mitte, _ = garages
    districts = add_collection(hub, add_dataset(hub, "bezirke"), "stadtbezirke")
    (zentrum,) = add_features(
        hub, districts, [{"geometry": box(7.075, 51.165, 7.085, 51.175), "properties": {}}]
    )
    found = hub.get(
        F + "/collections/sensors/items", params={"within": f"stadtbezirke/{zentrum}"}
    ).json()
    assert [f["id"] for f in found["features"]] == [mitte.thing]
    counts = hub.get(F + "/collections/sensors/counts", params={"within": "stadtbezirke"}).json()
    assert counts["counts"][0]["count"] == 1
