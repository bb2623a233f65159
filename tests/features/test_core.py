"""OGC API – Features Part 1 Core at /features: landing page, conformance, API definition,
collections, items with bbox, datetime, paging and property parameters, one item; GeoJSON
and HTML; 400 and 404 errors. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from tests.features.helpers import add_collection, add_dataset, add_features, box, point, utc

from cityhub.features.write import FeatureRecord, ensure_collection, write_features

F = "/features"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


@pytest.fixture
def toilets(hub):
    dataset = add_dataset(hub, "stadt")
    collection = add_collection(hub, dataset, "toiletten", "Öffentliche Toiletten")
    ids = add_features(
        hub,
        collection,
        [
            {
                "geometry": point(7.08 + i * 0.001, 51.17),
                "properties": {"name": f"WC {i}", "barrierefrei": i % 2 == 0, "plaetze": i},
                "start": utc(f"2024-05-{i + 1:02d}T08:00:00"),
            }
            for i in range(25)
        ],
    )
    return ids


def test_landing_page_links_to_conformance_api_and_collections(hub):
    landing = hub.get(F)
    assert landing.status_code == 200
    rels = {link["rel"] for link in landing.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    assert CORE in hub.get(F + "/conformance").json()["conformsTo"]
    api = hub.get(F + "/api")
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert "/collections/{collectionId}/items" in api.json()["paths"]


def test_collections_list_stored_ones_and_the_sensors(hub, toilets):
    document = hub.get(F + "/collections").json()
    ids = [one["id"] for one in document["collections"]]
    assert ids == ["toiletten", "sensors"]
    toilet = hub.get(F + "/collections/toiletten").json()
    assert toilet["title"] == "Öffentliche Toiletten"
    assert toilet["extent"]["spatial"]["bbox"][0] == pytest.approx(
        [7.08, 51.17, 7.104, 51.17], abs=1e-5
    )
    assert toilet["extent"]["temporal"]["interval"][0][0] == "2024-05-01T08:00:00Z"
    assert hub.get(F + "/collections/nowhere").status_code == 404


def test_items_are_paged_with_next_and_prev_links(hub, toilets):
    first = hub.get(F + "/collections/toiletten/items", params={"limit": 10})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    body = first.json()
    assert body["type"] == "FeatureCollection"
    assert (body["numberMatched"], body["numberReturned"]) == (25, 10)
    assert "timeStamp" in body
    assert [f["id"] for f in body["features"]] == toilets[:10]
    links = {link["rel"]: link["href"] for link in body["links"]}
    assert "prev" not in links
    second = hub.get(links["next"].replace("http://testserver", "")).json()
    assert [f["id"] for f in second["features"]] == toilets[10:20]
    links = {link["rel"]: link["href"] for link in second["links"]}
    assert "offset=0" not in links["prev"]
    assert "next" in links
    last = hub.get(F + "/collections/toiletten/items", params={"offset": 20}).json()
    assert last["numberReturned"] == 5
    assert "next" not in {link["rel"] for link in last["links"]}


def test_bbox_datetime_and_properties_select(hub, toilets):
    items = F + "/collections/toiletten/items"
    inside = hub.get(items, params={"bbox": "7.0795,51.16,7.0825,51.18"}).json()
    assert [f["properties"]["name"] for f in inside["features"]] == ["WC 0", "WC 1", "WC 2"]
    day = hub.get(items, params={"datetime": "2024-05-03T08:00:00Z"}).json()
    assert [f["properties"]["name"] for f in day["features"]] == ["WC 2"]
    interval = hub.get(items, params={"datetime": "2024-05-20T00:00:00Z/..", "limit": 100}).json()
    assert interval["numberMatched"] == 6
    open_start = hub.get(items, params={"datetime": "../2024-05-02T23:00:00Z"}).json()
    assert open_start["numberMatched"] == 2
    assert hub.get(items, params={"datetime": "2024-05-05"}).json()["numberMatched"] == 1
    by_property = hub.get(items, params={"plaetze": "7"}).json()
    assert [f["properties"]["name"] for f in by_property["features"]] == ["WC 7"]
    flag = hub.get(items, params={"barrierefrei": "true", "limit": 100}).json()
    assert flag["numberMatched"] == 13


def test_one_item_in_geojson_and_html(hub, toilets):
    url = f"{F}/collections/toiletten/items/{toilets[3]}"
    feature = hub.get(url).json()
    assert feature["type"] == "Feature"
    assert feature["geometry"] == point(7.083, 51.17)
    assert feature["properties"]["datetime"] == "2024-05-04T08:00:00Z"
    page = hub.get(url, headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>WC 3</h1>" in page.text
    assert 'lang="de"' in page.text
    assert hub.get(url, params={"f": "html"}).headers["content-type"].startswith("text/html")
    assert hub.get(f"{F}/collections/toiletten/items/999999").status_code == 404
    assert hub.get(f"{F}/collections/toiletten/items/abc").status_code == 404


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "10000000000000000000000"}, "offset"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "7.1,51,7.0,52"}, "bbox"),
        ({"datetime": "gestern"}, "datetime"),
        ({"datetime": "2024-06-01T00:00:00Z/2024-05-01T00:00:00Z"}, "datetime"),
        ({"bboxx": "1,2,3,4"}, "bboxx"),
        ({"f": "xml"}, "f"),
        ({"crs": "EPSG:31467"}, "crs"),
        ({"plaetze": "viele"}, "plaetze"),
    ],
)
def test_bad_parameters_are_400_naming_them(hub, toilets, params, named):
    response = hub.get(F + "/collections/toiletten/items", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert named in response.json()["message"]


def test_html_pages_of_the_face(hub, toilets):
    for url in (
        "",
        "/conformance",
        "/collections",
        "/collections/toiletten",
        "/collections/toiletten/items",
    ):
        page = hub.get(F + url, params={"f": "html"})
        assert page.status_code == 200, url
        assert page.text.startswith("<!doctype html>")
        assert "<h1>" in page.text


def test_a_restricted_dataset_is_invisible_without_its_token(hub):
    public = add_collection(hub, add_dataset(hub, "offen"), "baeume")
    secret_dataset = add_dataset(hub, "intern", "restricted")
    secret = add_collection(hub, secret_dataset, "kameras")
    add_features(hub, public, [{"geometry": point(7.08, 51.17), "properties": {"art": "Linde"}}])
    (camera,) = add_features(
        hub, secret, [{"geometry": box(7.0, 51.0, 7.1, 51.1), "properties": {}}]
    )
    ids = [c["id"] for c in hub.get(F + "/collections").json()["collections"]]
    assert "kameras" not in ids
    assert "baeume" in ids
    assert hub.get(F + "/collections/kameras").status_code == 404
    assert hub.get(F + "/collections/kameras/items").status_code == 404
    assert hub.get(f"{F}/collections/kameras/items/{camera}").status_code == 404
    within = hub.get(F + "/collections/baeume/items", params={"within": f"kameras/{camera}"})
    assert within.status_code == 400
    assert (
        hub.get(
            F + "/nearby", params={"lon": 7.05, "lat": 51.05, "collections": "kameras"}
        ).status_code
        == 404
    )
    counts = hub.get(F + "/collections/baeume/counts", params={"within": "kameras"})
    assert counts.status_code == 404
    everything = hub.get(F + "/nearby", params={"lon": 7.05, "lat": 51.05}).json()
    assert [f["properties"]["art"] for f in everything["features"]] == ["Linde"]
    token = hub.post("/api/admin/tokens", {"role": "reader", "name": "amt", "dataset": "intern"})
    assert token.status_code == 201, token.text
    reader = {"Authorization": f"Bearer {token.json()['token']}"}
    assert hub.get(F + "/collections/kameras", headers=reader).status_code == 200
    assert hub.get(f"{F}/collections/kameras/items/{camera}", headers=reader).status_code == 200
    assert hub.get(f"{F}/collections/kameras/items/{camera}", headers=hub.admin).status_code == 200


def test_a_written_collection_shows_its_new_extent_and_properties_at_once(hub):
    dataset = add_dataset(hub, "baustellen")

    def write(records):
        def run(connection):
            collection = ensure_collection(connection, dataset, "baustellen")
            write_features(connection, collection, records, mark_missing_gone=True)

        hub.store.write_blocking(run)

    write([FeatureRecord({"name": "A"}, point(7.08, 51.17), key="a")])
    before = hub.get(F + "/collections/baustellen").json()["extent"]["spatial"]["bbox"][0]
    assert before == pytest.approx([7.08, 51.17, 7.08, 51.17], abs=1e-5)
    write([FeatureRecord({"name": "B", "sperrung": True}, point(7.12, 51.2), key="b")])
    after = hub.get(F + "/collections/baustellen").json()["extent"]["spatial"]["bbox"][0]
    assert after == pytest.approx([7.12, 51.2, 7.12, 51.2], abs=1e-5)  # A is gone
    queryables = hub.get(F + "/collections/baustellen/queryables").json()["properties"]
    assert queryables["sperrung"]["type"] == "boolean"
    items = hub.get(F + "/collections/baustellen/items").json()
    assert [f["properties"]["name"] for f in items["features"]] == ["B"]


def test_the_hubs_api_document_describes_the_face(hub):
    paths = hub.get("/api/openapi.json").json()["paths"]
    assert "/features/collections/{collectionId}/items" in paths
    assert "/features/nearby" in paths
