"""Conditional requests of the catalog on both backends: a harvester's repeated request is a
304; an edited dataset, an import into its collection, a new Observation past its
Datastream's span, a Thing moved to another dataset each give a new tag; pages and formats
have tags of their own; a restricted record is private."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.catalog.city import NOW, city_fixture, hub_fixture

from cityhub.timeutil import format_instant

catalog_hub = pytest.fixture(hub_fixture)
city = pytest.fixture(city_fixture)

PUBLIC = "public, max-age=300"


def tag_of(hub: Any, url: str, **headers: str) -> str:
    response = hub.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def test_a_repeated_request_is_not_modified(catalog_hub, city):
    for url, vary in (
        ("/catalog", "Accept"),
        ("/catalog.rdf?page=1", None),
        ("/catalog/datasets/parken.jsonld", None),
        ("/catalog/datasets/parken", "Accept"),
    ):
        first = catalog_hub.get(url)
        assert first.status_code == 200, first.text
        assert first.headers["cache-control"] == PUBLIC
        assert first.headers.get("vary") == vary
        tag, modified = first.headers["etag"], first.headers["last-modified"]
        again = catalog_hub.get(url, headers={"If-None-Match": tag})
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["etag"] == tag
        assert again.headers["cache-control"] == PUBLIC
        since = catalog_hub.get(url, headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        other = catalog_hub.get(url, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200
        assert other.content == first.content


def test_pages_and_formats_have_tags_of_their_own(catalog_hub, city):
    urls = [
        "/catalog",
        "/catalog.ttl",
        "/catalog.rdf",
        "/catalog.jsonld",
        "/catalog?page_size=1",
        "/catalog?page=2&page_size=1",
        "/catalog?page=1&page_size=2",
        "/catalog/datasets/parken",
        "/catalog/datasets/parken.rdf",
        "/catalog/datasets/toiletten",
    ]
    tags = [tag_of(catalog_hub, url) for url in urls]
    assert len(set(tags)) == len(urls)
    negotiated = tag_of(catalog_hub, "/catalog", Accept="application/ld+json")
    assert negotiated not in tags
    assert tag_of(catalog_hub, "/catalog") == tags[0]  # and stable while nothing changes


def test_an_edited_dataset_changes_the_tags(catalog_hub, city):
    before = tag_of(catalog_hub, "/catalog")

    def edit() -> None:
        changed = catalog_hub.patch("/api/admin/datasets/toiletten", {"title": "WCs"})
        assert changed.status_code == 200, changed.text

    # Other datasets' records are what they were: their copies stay current.
    assert changes(catalog_hub, edit) == {"/catalog", "/catalog/datasets/toiletten"}
    stale = catalog_hub.get("/catalog", headers={"If-None-Match": before})
    assert stale.status_code == 200
    assert "WCs" in stale.text


def test_an_import_into_a_collection_changes_the_tags(catalog_hub, city):
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [7.2, 51.2]},
        "properties": {"name": "Südpark"},
    }
    body = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()

    def upload() -> None:
        imported = catalog_hub.request(
            "POST",
            "/api/admin/datasets/toiletten/collections/toiletten/import",
            files={"file": ("wc.geojson", body, "application/geo+json")},
            headers=catalog_hub.admin,
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"] == 1

    assert changes(catalog_hub, upload) == {"/catalog", "/catalog/datasets/toiletten"}


def test_a_new_observation_past_the_span_changes_the_tags(catalog_hub, city):
    def observe(at: datetime) -> None:
        observation = {"phenomenonTime": format_instant(at), "result": 3.5}
        air = city.datastreams[0]
        created = catalog_hub.post(f"/v1.1/Datastreams({air})/Observations", observation)
        assert created.status_code == 201, created.text

    # Within the span the Datastream keeps (three days ago to an hour ago): nothing shown moves.
    assert changes(catalog_hub, lambda: observe(NOW - timedelta(days=2))) == set()
    past_the_end = changes(catalog_hub, lambda: observe(NOW + timedelta(minutes=1)))
    assert past_the_end == {"/catalog", "/catalog/datasets/luftmessung"}


def test_a_new_multi_datastream_changes_the_tags(catalog_hub, city):
    """Its downloads are new distributions of its Thing's dataset."""
    garage = f"/v1.1/Datastreams({city.datastreams[1]})/Thing"
    thing = catalog_hub.get(garage).json()["@iot.id"]
    shown = catalog_hub.get(f"/v1.1/MultiDatastreams({city.multi_datastream})").json()

    def add() -> None:
        body = {
            key: shown[key]
            for key in ("description", "observationType", "multiObservationDataTypes")
        }
        body["unitOfMeasurements"] = shown["unitOfMeasurements"]
        body["name"] = "Stellplätze Ebene 2"
        body["Thing"] = {"@iot.id": thing}
        sensor = catalog_hub.get(f"/v1.1/MultiDatastreams({city.multi_datastream})/Sensor")
        body["Sensor"] = {"@iot.id": sensor.json()["@iot.id"]}
        properties = f"/v1.1/MultiDatastreams({city.multi_datastream})/ObservedProperties"
        linked = catalog_hub.get(properties).json()["value"]
        body["ObservedProperties"] = [{"@iot.id": p["@iot.id"]} for p in linked]
        created = catalog_hub.post("/v1.1/MultiDatastreams", body)
        assert created.status_code == 201, created.text

    assert changes(catalog_hub, add) == {"/catalog", "/catalog/datasets/parken"}
    record = catalog_hub.get("/catalog/datasets/parken.ttl").text
    assert "Stellplätze Ebene 2 (CSV)" in record


def test_a_thing_moved_to_another_dataset_changes_the_tags(catalog_hub, city):
    thing = catalog_hub.get(f"/v1.1/Datastreams({city.datastreams[0]})/Thing").json()["@iot.id"]

    def move() -> None:
        moved = catalog_hub.post("/api/admin/datasets/toiletten/things", {"things": [thing]})
        assert moved.status_code == 200, moved.text

    assert changes(catalog_hub, move) == {
        "/catalog",
        "/catalog/datasets/toiletten",
        "/catalog/datasets/luftmessung",
    }


def test_a_restricted_record_is_private(catalog_hub, city):
    url = "/catalog/datasets/intern"
    first = catalog_hub.get(url, headers=catalog_hub.admin)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "private, max-age=300"
    assert first.headers["vary"] == "Accept, Authorization"
    tag = first.headers["etag"]
    again = catalog_hub.get(url, headers={**catalog_hub.admin, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, max-age=300"
    # Without the token it is not there, whatever tag the client holds.
    assert catalog_hub.get(url, headers={"If-None-Match": tag}).status_code == 404
    assert catalog_hub.get(url, headers={"If-None-Match": "*"}).status_code == 404


def test_a_page_past_the_last_is_no_304(catalog_hub, city):
    response = catalog_hub.get("/catalog?page=9", headers={"If-None-Match": "*"})
    assert response.status_code == 404


WATCHED = [
    "/catalog",
    "/catalog/datasets/toiletten",
    "/catalog/datasets/luftmessung",
    "/catalog/datasets/parken",
]


def changes(hub: Any, change: Callable[[], None]) -> set[str]:
    """The watched URLs whose tag ``change`` changes."""
    before = {url: tag_of(hub, url) for url in WATCHED}
    change()
    return {url for url in WATCHED if tag_of(hub, url) != before[url]}
