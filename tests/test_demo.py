"""The demo dataset, loaded through the write path, on both backends."""

from datetime import UTC, datetime

from cityhub.datasets import find_dataset
from cityhub.demo import DEMO_DATASET, load_demo
from cityhub.store.database import Store


def test_demo_loads_once_and_is_served(backend_settings):
    store = Store(backend_settings)
    now = datetime(2026, 11, 26, 12, 7, tzinfo=UTC)
    try:
        first = load_demo(store, now=now)
        second = load_demo(store, now=now)
    finally:
        store.close()
    assert first.things == 10
    assert first.observations > 5000
    assert (second.things, second.observations, second.skipped) == (0, 0, 10)


def test_demo_things_are_published_in_a_public_dataset(backend_settings):
    store = Store(backend_settings)
    try:
        load_demo(store, now=datetime(2026, 11, 26, 12, 7, tzinfo=UTC))
        published = store.read_blocking(lambda c: find_dataset(c, DEMO_DATASET["slug"]))
    finally:
        store.close()
    assert published["things"] == 10
    assert published["visibility"] == "public"
    assert published["organization"] == "stadt-solingen-demo"


def test_demo_data_reads_like_a_city(hub):
    load_demo(hub.store, now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    things = hub.get("/v1.1/Things", params={"$count": "true", "$top": "0"}).json()
    assert things["@iot.count"] == 10
    gauge = hub.get(
        "/v1.1/Datastreams",
        params={
            "$filter": "Thing/name eq 'Pegel Wupper Glüder' and unitOfMeasurement/symbol eq 'cm'",
            "$expand": "Observations($top=1;$orderby=phenomenonTime desc)",
        },
    ).json()["value"]
    assert len(gauge) == 1
    latest = gauge[0]["Observations"][0]
    assert latest["phenomenonTime"] == "2026-11-26T12:00:00Z"
    assert 40 < latest["result"] < 200
    assert gauge[0]["phenomenonTime"].endswith("/2026-11-26T12:00:00Z")
    sensors = hub.get("/v1.1/Sensors", params={"$count": "true"}).json()["@iot.count"]
    assert sensors < 24  # shared sensor models are created once


def test_demo_places_answer_what_is_near_and_what_lies_in_a_district(hub):
    load_demo(hub.store, now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    load_demo(hub.store, now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))  # nothing twice
    toilets = hub.get("/features/collections/oeffentliche-toiletten/items").json()
    assert toilets["numberMatched"] == 6
    nearest = hub.get(
        "/features/nearby",
        params={"lon": 7.0831, "lat": 51.1712, "collections": "oeffentliche-toiletten"},
    ).json()["features"]
    assert nearest[0]["properties"]["name"] == "Neumarkt"
    counts = hub.get(
        "/features/collections/oeffentliche-toiletten/counts", params={"within": "stadtbezirke"}
    ).json()["counts"]
    assert {c["title"]: c["count"] for c in counts} == {
        "Gräfrath": 1,
        "Wald": 1,
        "Solingen-Mitte": 2,
        "Ohligs/Aufderhöhe/Merscheid": 1,
        "Burg/Höhscheid": 1,
    }
    in_mitte = hub.get(
        "/v1.1/Things",
        params={
            "$filter": "st_within(Locations/location, cityhub.feature('stadtbezirke', '3'))",
            "$count": "true",
            "$top": "0",
        },
    ).json()
    assert 0 < in_mitte["@iot.count"] <= 10
