"""OGC API – Features Part 2: geometries served and bounding boxes given in CRS84, EPSG:4326
(latitude first) and EPSG:25832 (ETRS89 / UTM 32N)."""

from __future__ import annotations

import pytest
from tests.features.helpers import add_collection, add_dataset, add_features, point

ITEMS = "/features/collections/haltestellen/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG25832 = "http://www.opengis.net/def/crs/EPSG/0/25832"
# Solingen Hauptbahnhof, roughly: 7.08 E 51.17 N is E 365772.64 N 5670482.09 in UTM 32N.
EASTING, NORTHING = 365772.64, 5670482.09


@pytest.fixture
def stops(hub):
    collection = add_collection(hub, add_dataset(hub, "verkehr"), "haltestellen")
    return add_features(
        hub,
        collection,
        [
            {"geometry": point(7.08, 51.17), "properties": {"name": "Hbf"}},
            {"geometry": point(7.20, 51.25), "properties": {"name": "Weit weg"}},
        ],
    )


def test_collections_offer_the_crs_list_and_the_storage_crs(hub, stops):
    collection = hub.get("/features/collections/haltestellen").json()
    assert collection["storageCrs"] == CRS84
    assert collection["crs"] == [CRS84, EPSG4326, EPSG25832]
    assert EPSG25832 in hub.get("/features/collections").json()["crs"]
    conformance = hub.get("/features/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance


def test_items_in_each_crs_with_content_crs(hub, stops):
    plain = hub.get(ITEMS, params={"limit": 1})
    assert plain.headers["Content-Crs"] == f"<{CRS84}>"
    assert plain.json()["features"][0]["geometry"]["coordinates"] == [7.08, 51.17]
    latitude_first = hub.get(ITEMS, params={"limit": 1, "crs": EPSG4326})
    assert latitude_first.headers["Content-Crs"] == f"<{EPSG4326}>"
    assert latitude_first.json()["features"][0]["geometry"]["coordinates"] == [51.17, 7.08]
    utm = hub.get(ITEMS, params={"limit": 1, "crs": "EPSG:25832"})
    assert utm.headers["Content-Crs"] == f"<{EPSG25832}>"
    assert utm.json()["features"][0]["geometry"]["coordinates"] == pytest.approx(
        [EASTING, NORTHING], abs=0.01
    )
    one = hub.get(f"{ITEMS}/{stops[0]}", params={"crs": EPSG25832})
    assert one.headers["Content-Crs"] == f"<{EPSG25832}>"
    assert one.json()["geometry"]["coordinates"][0] == pytest.approx(EASTING, abs=0.01)


def test_bbox_in_each_crs(hub, stops):
    def names(params):
        response = hub.get(ITEMS, params=params)
        assert response.status_code == 200, response.text
        return [f["properties"]["name"] for f in response.json()["features"]]

    assert names({"bbox": "7.07,51.16,7.09,51.18"}) == ["Hbf"]
    assert names({"bbox": "51.16,7.07,51.18,7.09", "bbox-crs": EPSG4326}) == ["Hbf"]
    utm_box = f"{EASTING - 100},{NORTHING - 100},{EASTING + 100},{NORTHING + 100}"
    assert names({"bbox": utm_box, "bbox-crs": "EPSG:25832"}) == ["Hbf"]
    # the lon/lat box read as lat/lon lies in the sea off Somalia
    assert names({"bbox": "7.07,51.16,7.09,51.18", "bbox-crs": EPSG4326}) == []


def test_unsupported_crs_is_400(hub, stops):
    response = hub.get(ITEMS, params={"bbox": "1,2,3,4", "bbox-crs": "EPSG:31467"})
    assert response.status_code == 400
    assert "bbox-crs" in response.json()["message"]
    assert hub.get(ITEMS, params={"bbox-crs": EPSG4326}).status_code == 400
