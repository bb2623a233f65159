"""OGC API – Features Part 3: queryables and CQL2 filters (text and JSON) on the items of a
collection, on both backends."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select
from tests.features.helpers import add_collection, add_dataset, add_features, box, point, utc

from cityhub.store import schema

ITEMS = "/features/collections/ladestationen/items"


@pytest.fixture
def chargers(hub):
    collection = add_collection(hub, add_dataset(hub, "energie"), "ladestationen")
    return add_features(
        hub,
        collection,
        [
            {
                "geometry": point(7.08, 51.17),
                "properties": {"betreiber": "Stadtwerke", "ladepunkte": 2, "Straße": "Mühlenplatz"},
                "start": utc("2023-03-01T00:00:00"),
            },
            {
                "geometry": point(7.09, 51.18),
                "properties": {"betreiber": "EnBW", "ladepunkte": 4, "Straße": "Kölner Straße"},
                "start": utc("2024-06-01T00:00:00"),
            },
            {
                "geometry": point(7.20, 51.25),
                "properties": {"betreiber": "Stadtwerke", "ladepunkte": 8, "schnell": True},
                "start": utc("2025-01-01T00:00:00"),
            },
        ],
    )


def _names(hub, **params):
    response = hub.get(ITEMS, params=params)
    assert response.status_code == 200, response.text
    return [
        f["properties"].get("Straße") or f["properties"]["betreiber"]
        for f in response.json()["features"]
    ]


def test_queryables_are_a_json_schema_of_the_properties(hub, chargers):
    response = hub.get("/features/collections/ladestationen/queryables")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    schema = response.json()
    assert schema["type"] == "object"
    assert schema["properties"]["ladepunkte"]["type"] == "integer"
    assert schema["properties"]["betreiber"]["type"] == "string"
    assert schema["properties"]["schnell"]["type"] == "boolean"
    assert {"geometry", "datetime", "id"} <= set(schema["properties"])


def test_cql2_text_filters(hub, chargers):
    assert _names(hub, filter="ladepunkte >= 4 AND betreiber = 'EnBW'") == ["Kölner Straße"]
    assert _names(hub, filter="\"Straße\" LIKE '%platz'") == ["Mühlenplatz"]
    assert _names(hub, filter="ladepunkte BETWEEN 3 AND 9") == ["Kölner Straße", "Stadtwerke"]
    assert _names(hub, filter="betreiber IN ('EnBW', 'Keiner')") == ["Kölner Straße"]
    assert _names(hub, filter="schnell IS NULL") == ["Mühlenplatz", "Kölner Straße"]
    district = "POLYGON((7.07 51.16, 7.10 51.16, 7.10 51.19, 7.07 51.19, 7.07 51.16))"
    assert _names(hub, filter=f"S_WITHIN(geometry, {district})") == ["Mühlenplatz", "Kölner Straße"]
    assert _names(hub, filter="S_DWITHIN(geometry, POINT(7.081 51.17), 100, meters)") == [
        "Mühlenplatz"
    ]
    assert _names(hub, filter="T_AFTER(datetime, TIMESTAMP('2024-01-01T00:00:00Z'))") == [
        "Kölner Straße",
        "Stadtwerke",
    ]


def test_cql2_json_filter_and_filter_crs(hub, chargers):
    document = {
        "op": "s_intersects",
        "args": [{"property": "geometry"}, {"bbox": [51.16, 7.07, 51.175, 7.085]}],
    }
    names = _names(
        hub,
        **{
            "filter": orjson.dumps(document).decode(),
            "filter-lang": "cql2-json",
            "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
        },
    )
    assert names == ["Mühlenplatz"]
    utm = "S_INTERSECTS(geometry, POINT(365772.64 5670482.09))"
    buffer = f"S_DWITHIN(geometry, {utm[23:-1]}, 10, meters)"
    assert _names(hub, **{"filter": buffer, "filter-crs": "EPSG:25832"}) == ["Mühlenplatz"]


def test_filters_combine_with_bbox_and_property_parameters(hub, chargers):
    assert _names(hub, filter="ladepunkte > 1", betreiber="Stadtwerke") == [
        "Mühlenplatz",
        "Stadtwerke",
    ]
    assert _names(hub, filter="ladepunkte > 1", bbox="7.0,51.0,7.1,51.2") == [
        "Mühlenplatz",
        "Kölner Straße",
    ]


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"filter": "ladepunkte >"}, "position"),
        ({"filter": "Strasse = 'x'"}, "unknown queryable 'Strasse'"),
        ({"filter": "{", "filter-lang": "cql2-json"}, "not valid JSON"),
        ({"filter": "a = 1", "filter-lang": "ecql"}, "filter-lang"),
        ({"filter-lang": "cql2-text"}, "need a 'filter'"),
        ({"filter": "geometry = 1"}, "spatial functions"),
    ],
)
def test_bad_filters_are_400_saying_why(hub, chargers, params, said):
    response = hub.get(ITEMS, params=params)
    assert response.status_code == 400, response.text
    assert said in response.json()["message"]


def test_a_property_added_later_is_queryable_at_once(hub, chargers):
    assert _names(hub, filter="ladepunkte > 100") == []  # the collection is summarised
    collection_id = hub.store.read_blocking(
        lambda c: c.execute(select(schema.collections.c.id)).scalar_one()
    )
    add_features(
        hub, collection_id, [{"geometry": box(7, 51, 7.01, 51.01), "properties": {"neu": 1}}]
    )
    assert hub.get(ITEMS, params={"filter": "neu = 1"}).json()["numberMatched"] == 1
    assert hub.get(ITEMS, params={"neu": "1"}).json()["numberMatched"] == 1
