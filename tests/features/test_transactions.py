"""OGC API – Features Part 4 at /features: create, replace, update (merge patch) and delete
single features, with tokens, datasets and restricted collections, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select
from tests.features.helpers import add_dataset, add_features, box, point, utc

from cityhub.auth import create_token
from cityhub.features.write import ensure_collection
from cityhub.store import schema

F = "/features"
ITEMS = F + "/collections/toiletten/items"
GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"


def _toilet(name: str, number: str = "1", lon: float = 7.0837, lat: float = 51.1652) -> dict:
    return {
        "type": "Feature",
        "geometry": point(lon, lat),
        "properties": {"nr": number, "name": name, "barrierefrei": True},
    }


@pytest.fixture
def setup(hub) -> dict[str, Any]:
    """A public dataset with the keyed collection 'toiletten', a restricted one with
    'intern', and tokens: a reader, a publisher bound to each dataset, an unbound one."""
    wc = add_dataset(hub, "wc")
    secret = add_dataset(hub, "geheim", "restricted")

    def write(connection: Any) -> dict[str, Any]:
        ensure_collection(connection, wc, "toiletten", key_property="nr")
        ensure_collection(connection, secret, "intern")
        return {
            "reader": create_token(connection, "reader", "leser"),
            "wc": create_token(connection, "publisher", "wc-team", wc),
            "secret": create_token(connection, "publisher", "intern-team", secret),
            "publisher": create_token(connection, "publisher", "redaktion"),
        }

    tokens = hub.store.write_blocking(write)
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


def _post(hub, body: Any, headers: dict[str, str] | None = None, url: str = ITEMS):
    return hub.post(url, json=body, headers={**GEOJSON, **(headers or {})})


def _rows(hub) -> list[dict[str, Any]]:
    table = schema.features
    query = select(table.c.id, table.c.key, table.c.gone_at, table.c.provenance).order_by(
        table.c.id
    )
    return hub.store.read_blocking(lambda c: [dict(r) for r in c.execute(query).mappings()])


def test_conformance_declares_part_4(hub):
    classes = hub.get(F + "/conformance").json()["conformsTo"]
    assert {PART4 + "create-replace-delete", PART4 + "update", PART4 + "features"} <= set(classes)


def test_create_answers_201_with_the_location_of_the_new_feature(hub, setup):
    created = _post(hub, _toilet("Neumarkt"))
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location.startswith("http://testserver/features/collections/toiletten/items/")
    feature = hub.get(location).json()
    assert feature["properties"]["name"] == "Neumarkt"
    assert feature["geometry"] == point(7.0837, 51.1652)
    [row] = _rows(hub)
    assert row["key"] == "1"
    assert row["provenance"]["api"] == "features"
    listed = hub.get(ITEMS).json()
    assert listed["numberMatched"] == 1


def test_replace_update_and_delete_a_feature(hub, setup):
    location = _post(hub, _toilet("Neumarkt")).headers["location"]
    path = location.removeprefix("http://testserver")

    replaced = hub.put(path, json=_toilet("Am Neumarkt", lon=7.084, lat=51.165), headers=GEOJSON)
    assert replaced.status_code == 204, replaced.text
    assert hub.get(path).json()["properties"] == {
        "nr": "1",
        "name": "Am Neumarkt",
        "barrierefrei": True,
    }

    patch = {"properties": {"barrierefrei": None, "gebuehr": 0.5}}
    updated = hub.patch(path, json=patch, headers=MERGE)
    assert updated.status_code == 204, updated.text
    feature = hub.get(path).json()
    assert feature["properties"] == {"nr": "1", "name": "Am Neumarkt", "gebuehr": 0.5}
    assert feature["geometry"] == point(7.084, 51.165)

    moved = hub.patch(path, json={"geometry": point(7.09, 51.17)}, headers=MERGE)
    assert moved.status_code == 204
    assert hub.get(path).json()["geometry"] == point(7.09, 51.17)

    assert hub.delete(path).status_code == 204
    assert hub.get(path).status_code == 404
    assert hub.delete(path).status_code == 404
    assert hub.put(path, json=_toilet("x"), headers=GEOJSON).status_code == 404
    assert hub.get(ITEMS).json()["numberMatched"] == 0
    assert _rows(hub)[0]["gone_at"] is not None  # kept, marked gone


def test_the_key_property_stays_unique(hub, setup):
    first = _post(hub, _toilet("Neumarkt", "1")).headers["location"]
    second = _post(hub, _toilet("Ohligs", "2")).headers["location"]
    taken = _post(hub, _toilet("Noch eins", "1"))
    assert taken.status_code == 409
    assert "'nr'" in taken.json()["message"]
    assert "'1'" in taken.json()["message"]
    path = second.removeprefix("http://testserver")
    clash = hub.patch(path, json={"properties": {"nr": "1"}}, headers=MERGE)
    assert clash.status_code == 409
    missing = _post(hub, {"type": "Feature", "geometry": None, "properties": {"name": "x"}})
    assert missing.status_code == 400
    assert "'nr'" in missing.json()["message"]
    # A deleted feature gives its key up to a new one, which gets a new id.
    assert hub.delete(first.removeprefix("http://testserver")).status_code == 204
    again = _post(hub, _toilet("Neumarkt neu", "1"))
    assert again.status_code == 201
    assert again.headers["location"] != first
    assert [r["key"] for r in _rows(hub)] == [None, "2", "1"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "one GeoJSON Feature"),
        ({"type": "FeatureCollection", "features": []}, "one GeoJSON Feature"),
        ({"type": "Feature", "geometry": None, "properties": [1]}, "'properties'"),
        ({"type": "Feature", "geometry": {"type": "Point"}, "properties": {"nr": "9"}}, "Point"),
        ({"type": "Feature", "geometry": point(51.2, 97.0), "properties": {"nr": "9"}}, "WGS 84"),
        ({"type": "Feature", "geometry": {"type": "Blob"}, "properties": {"nr": "9"}}, "GeoJSON"),
    ],
)
def test_bad_bodies_are_400_and_leave_nothing(sqlite_hub, body, fragment):
    hub = sqlite_hub
    dataset = add_dataset(hub, "wc")
    hub.store.write_blocking(
        lambda c: ensure_collection(c, dataset, "toiletten", key_property="nr")
    )
    answer = _post(hub, body)
    assert answer.status_code == 400, answer.text
    assert fragment in answer.json()["message"]
    assert _rows(hub) == []


def test_media_types_are_checked(sqlite_hub):
    hub = sqlite_hub
    dataset = add_dataset(hub, "wc")
    hub.store.write_blocking(lambda c: ensure_collection(c, dataset, "toiletten"))
    no_type = hub.request("POST", ITEMS, content=b"{}", headers=hub.admin)
    assert no_type.status_code == 400
    assert "Content-Type" in no_type.json()["message"]
    xml = hub.post(ITEMS, json={}, headers={"Content-Type": "application/gml+xml"})
    assert xml.status_code == 415
    location = _post(hub, _toilet("Neumarkt")).headers["location"]
    as_geojson = hub.patch(location, json={"properties": {}}, headers=GEOJSON)
    assert as_geojson.status_code == 415
    assert "merge-patch" in as_geojson.json()["message"]


def test_geometries_in_another_crs_are_stored_in_wgs84(sqlite_hub):
    hub = sqlite_hub
    dataset = add_dataset(hub, "wc")
    hub.store.write_blocking(lambda c: ensure_collection(c, dataset, "toiletten"))
    body = {"type": "Feature", "geometry": point(366000.0, 5670500.0), "properties": {}}
    headers = {"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/25832>"}
    location = _post(hub, body, headers).headers["location"]
    lon, lat = hub.get(location).json()["geometry"]["coordinates"]
    assert 7.0 < lon < 7.2
    assert 51.1 < lat < 51.2
    unknown = _post(hub, body, {"Content-Crs": "EPSG:3857"})
    assert unknown.status_code == 400
    assert "Content-Crs" in unknown.json()["message"]


def test_writing_needs_a_token_that_may_write_that_dataset(hub, setup):
    assert _post(hub, _toilet("x"), {"Authorization": ""}).status_code == 401
    anonymous = hub.request("POST", ITEMS, json=_toilet("x"), headers=GEOJSON)
    assert anonymous.status_code == 401
    assert _post(hub, _toilet("x"), setup["reader"]).status_code == 403
    assert _post(hub, _toilet("x"), setup["secret"]).status_code == 403
    assert _post(hub, _toilet("a", "a"), setup["wc"]).status_code == 201
    assert _post(hub, _toilet("b", "b"), setup["publisher"]).status_code == 201
    assert _rows(hub)[0]["provenance"]["token"] == "wc-team"


def test_restricted_collections_do_not_exist_for_who_may_not_read_them(hub, setup):
    url = F + "/collections/intern/items"
    body = {"type": "Feature", "geometry": box(7.0, 51.1, 7.1, 51.2), "properties": {}}
    hidden = _post(hub, body, setup["publisher"], url)
    assert hidden.status_code == 404
    assert _post(hub, body, setup["wc"], url).status_code == 404
    created = _post(hub, body, setup["secret"], url)
    assert created.status_code == 201
    path = created.headers["location"].removeprefix("http://testserver")
    assert hub.delete(path, headers=setup["publisher"]).status_code == 404
    assert hub.delete(path, headers=setup["secret"]).status_code == 204


def test_the_sensors_collection_is_read_only(hub, setup):
    url = F + "/collections/sensors/items"
    assert _post(hub, _toilet("x"), url=url).status_code == 405
    assert hub.delete(url + "/1").status_code == 405
    assert hub.patch(url + "/1", json={}, headers=MERGE).status_code == 405


def test_options_list_the_methods_and_media_types(sqlite_hub):
    items = sqlite_hub.request("OPTIONS", ITEMS)
    assert "POST" in items.headers["allow"]
    assert "application/geo+json" in items.headers["accept-post"]
    item = sqlite_hub.request("OPTIONS", ITEMS + "/1")
    assert {"PUT", "PATCH", "DELETE"} <= set(item.headers["allow"].replace(" ", "").split(","))
    assert item.headers["accept-patch"] == "application/merge-patch+json"
    sensors = sqlite_hub.request("OPTIONS", F + "/collections/sensors/items")
    assert "POST" not in sensors.headers["allow"]


def test_a_replace_keeps_the_id_and_the_live_link(hub, setup):
    row = {"name": "Zähler", "description": "", "properties": {}}
    thing_id = hub.store.write_blocking(
        lambda c: c.execute(insert(schema.things).returning(schema.things.c.id), row).scalar_one()
    )
    collection = hub.store.read_blocking(
        lambda c: c.scalar(
            select(schema.collections.c.id).where(schema.collections.c.slug == "toiletten")
        )
    )
    [feature] = add_features(
        hub,
        collection,
        [
            {
                "key": "7",
                "properties": {"nr": "7"},
                "geometry": point(7.08, 51.17),
                "thing_id": thing_id,
            }
        ],
    )
    path = f"{ITEMS}/{feature}"
    wrong = hub.put(path, json={**_toilet("x", "7"), "id": feature + 1}, headers=GEOJSON)
    assert wrong.status_code == 400
    assert (
        hub.put(path, json={**_toilet("Zähler", "7"), "id": feature}, headers=GEOJSON).status_code
        == 204
    )
    linked = hub.store.read_blocking(
        lambda c: c.scalar(
            select(schema.features.c.thing_id).where(schema.features.c.id == feature)
        )
    )
    assert linked == thing_id


def test_the_api_definition_describes_the_operations(sqlite_hub):
    from openapi_spec_validator import validate

    document = sqlite_hub.get(F + "/api").json()
    validate(document)
    item = document["paths"]["/collections/{collectionId}/items/{featureId}"]
    assert {"get", "put", "patch", "delete"} <= set(item)
    assert "application/merge-patch+json" in item["patch"]["requestBody"]["content"]
    created = document["paths"]["/collections/{collectionId}/items"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    validate(sqlite_hub.get("/api/openapi.json").json())


def test_the_slug_sensors_is_reserved(hub):
    dataset = add_dataset(hub, "wc")
    with pytest.raises(ValueError, match="'sensors' is reserved"):
        hub.store.write_blocking(lambda c: ensure_collection(c, dataset, "sensors"))
    hub.post("/api/admin/datasets", {"slug": "stadt", "title": "Stadt", "licence": "cc-by/4.0"})
    upload = hub.request(
        "POST",
        "/api/admin/datasets/stadt/collections/sensors/import",
        content=b"name,lon,lat\nA,7.08,51.17\n",
        headers={**hub.admin, "Content-Type": "text/csv"},
    )
    assert upload.status_code == 400
    assert "reserved" in upload.json()["message"]
    collections = hub.get(F + "/collections").json()["collections"]
    assert [c["id"] for c in collections] == ["sensors"]


def test_replace_and_patch_keep_the_features_times(hub, setup):
    collection = hub.store.read_blocking(
        lambda c: c.scalar(
            select(schema.collections.c.id).where(schema.collections.c.slug == "toiletten")
        )
    )
    start, end = utc("2026-12-01T08:00:00"), utc("2026-12-01T20:00:00")
    feature = {"key": "5", "properties": {"nr": "5"}, "start": start, "end": end}
    [feature_id] = add_features(hub, collection, [feature])
    path = f"{ITEMS}/{feature_id}"
    assert hub.put(path, json=_toilet("Markt", "5"), headers=GEOJSON).status_code == 204
    assert hub.patch(path, json={"properties": {"name": "M"}}, headers=MERGE).status_code == 204
    served = hub.get(path).json()["properties"]
    assert served["datetime"] == "2026-12-01T08:00:00Z/2026-12-01T20:00:00Z"
    assert served["name"] == "M"
    assert hub.get(ITEMS, params={"datetime": "2026-12-01T12:00:00Z"}).json()["numberReturned"] == 1
