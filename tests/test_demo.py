"""The demo dataset, loaded through the write path, on both backends."""

from datetime import UTC, datetime, timedelta

import pytest

from cityhub.datasets import find_dataset
from cityhub.demo import DEMO_DATASET, demo_identifiers, load_demo, with_demo_settings
from cityhub.demo_parking import GARAGES, free_spaces, opening_status
from cityhub.demo_transit import HBF
from cityhub.settings import load_settings
from cityhub.store.database import Store


def test_demo_loads_once_and_is_served(backend_settings):
    store = Store(backend_settings)
    now = datetime(2026, 11, 26, 12, 7, tzinfo=UTC)
    try:
        first = load_demo(store, now=now)
        second = load_demo(store, now=now)
    finally:
        store.close()
    assert first.things == 16  # ten sensor Things, five car parks, a forecast
    assert first.observations > 5000
    assert first.timetable
    assert (second.things, second.observations, second.skipped) == (0, 0, 16)
    assert not second.timetable


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
    assert things["@iot.count"] == 16
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
    assert 0 < in_mitte["@iot.count"] <= 16


NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
DAY = timedelta(days=1)


def test_demo_car_parks_are_live_features_with_free_and_total_spaces(hub):
    load_demo(hub.store, now=NOON)
    ids = demo_identifiers()
    found = hub.get(f"/features/collections/{ids.parking_collection}/items").json()
    assert found["numberMatched"] == 5
    garages = {f["properties"]["id"]: f["properties"] for f in found["features"]}
    assert set(garages) == set(ids.parking_keys)
    for garage in garages.values():
        free, total = garage[ids.parking_free], garage[ids.parking_total]
        assert total == garage["capacity"]
        assert 0 <= free <= total
        assert garage["live"][ids.parking_free]["phenomenonTime"] == "2026-11-26T12:00:00Z"
        assert {"opening_hours", "operator_name", "address"} <= garage.keys()
    commuters = garages["sg-pr-hbf"]
    assert commuters[ids.parking_free] < 0.25 * commuters["capacity"]  # a weekday at noon
    streams = hub.get(
        "/v1.1/Datastreams",
        params={"$filter": "Thing/name eq 'P+R Solingen Hbf'", "$select": "properties"},
    ).json()["value"]
    assert sorted(s["properties"]["sourceKey"] for s in streams) == ["free", "total"]
    near_the_stop = hub.get(
        "/features/nearby",
        params={"lon": 7.0815, "lat": 51.1706, "collections": ids.parking_collection, "limit": 1},
    ).json()["features"]
    assert near_the_stop[0]["properties"]["name"] == "Parkhaus Clemens-Galerien"
    assert near_the_stop[0]["properties"][ids.parking_free] >= 0


def test_demo_car_parks_fill_by_day_and_empty_by_night():
    night = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    for garage in GARAGES:
        assert free_spaces(garage, night) > free_spaces(garage, NOON)
    saturday = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
    shopping = next(g for g in GARAGES if g.key == "sg-ph-clemens-galerien")
    assert free_spaces(shopping, saturday) < free_spaces(shopping, NOON)
    assert opening_status(shopping, saturday) == "OPEN"
    assert opening_status(shopping, night) == opening_status(shopping, saturday + DAY) == "CLOSED"


@pytest.mark.parametrize(
    "at", ["2026-11-26T03:10", "2026-11-26T07:45", "2026-11-26T23:50", "2031-06-01T12:00"]
)
def test_demo_departures_answer_at_any_hour(hub, at):
    load_demo(hub.store, now=NOON)
    ids = demo_identifiers()
    answer = hub.get("/departures", params={"stop": ids.stop, "at": at, "limit": 5})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stop"]["name"] == "Solingen Graf-Wilhelm-Platz"
    assert body["stop"]["feed"] == ids.feed
    departures = body["departures"]
    assert len(departures) == 5
    first = datetime.fromisoformat(departures[0]["scheduled"])
    asked = datetime.fromisoformat(body["at"])
    assert timedelta(0) <= first - asked <= timedelta(minutes=30)
    assert {d["route"] for d in departures} <= {"683", "681", "695"}


def test_demo_stops_are_features(hub):
    load_demo(hub.store, now=NOON)
    ids = demo_identifiers()
    stops = hub.get(
        f"/features/collections/{ids.stops_collection}/items", params={"limit": 100}
    ).json()
    assert {f["properties"]["id"]: f["properties"]["name"] for f in stops["features"]} == ids.stops
    board = hub.get("/departures", params={"stop": HBF, "at": "2026-11-26T08:00"}).json()
    assert [d["route"] for d in board["departures"]][:1] == ["683"]


def test_demo_uv_index_follows_the_sun(hub):
    load_demo(hub.store, now=NOON)
    uv = demo_identifiers().streams["uv-index"]
    found = _datastreams(
        hub,
        f"properties/demoKey eq '{uv.key}'",
        "Observations($top=200;$orderby=phenomenonTime desc)",
    )
    assert [s["name"] for s in found] == [uv.name]
    by_time = {o["phenomenonTime"]: o["result"] for o in found[0]["Observations"]}
    assert len(by_time) == 200
    assert by_time["2026-11-26T02:00:00Z"] == 0.0
    assert by_time["2026-11-26T11:45:00Z"] > 0


def test_demo_screen_streams_exist(hub):
    load_demo(hub.store, now=NOON)
    for role, stream in demo_identifiers().streams.items():
        found = _datastreams(hub, f"properties/demoKey eq '{stream.key}'", "Thing")
        named = [(s["name"], s["Thing"]["name"]) for s in found]
        assert named == [(stream.name, stream.thing)], role


def test_demo_forecast_covers_the_next_two_days_as_bright_sky_would(hub):
    load_demo(hub.store, now=NOON)
    ids = demo_identifiers()
    streams = _datastreams(
        hub, f"Thing/name eq '{ids.forecast_thing}'", "Observations($orderby=phenomenonTime)"
    )
    assert sorted(s["properties"]["sourceKey"] for s in streams) == sorted(ids.forecast_keys)
    for stream in streams:
        times = [o["phenomenonTime"] for o in stream["Observations"]]
        assert (len(times), times[0], times[-1]) == (
            48,
            "2026-11-26T13:00:00Z",
            "2026-11-28T12:00:00Z",
        )
    temperature = next(s for s in streams if s["properties"]["sourceKey"] == "temperature:forecast")
    assert all(-10 < o["result"] < 20 for o in temperature["Observations"])


def test_demo_reload_later_changes_nothing(hub):
    load_demo(hub.store, now=NOON)
    before = {
        slug: hub.get(f"/features/collections/{slug}/items", params={"limit": 100}).json()
        for slug in ("parkhaeuser", "haltestellen", "wettervorhersage")
    }
    observations = _observation_count(hub)
    again = load_demo(hub.store, now=NOON + timedelta(days=1))
    added = (again.things, again.observations, again.skipped, again.timetable)
    assert added == (0, 0, 16, False)
    for slug, earlier in before.items():
        now = hub.get(f"/features/collections/{slug}/items", params={"limit": 100}).json()
        assert now["features"] == earlier["features"]
    assert _observation_count(hub) == observations


def _datastreams(hub, where: str, expand: str) -> list[dict]:
    params = {"$filter": where, "$expand": expand}
    return hub.get("/v1.1/Datastreams", params=params).json()["value"]


def _observation_count(hub) -> int:
    return hub.get("/v1.1/Observations", params={"$count": "true", "$top": "0"}).json()[
        "@iot.count"
    ]


def test_the_demo_names_its_city_and_screen_where_the_configuration_does_not(tmp_path):
    unset = with_demo_settings(load_settings({"data_dir": tmp_path}, environ={}))
    assert (unset.city_name, unset.municipality_key, unset.portal_screen) == (
        "Solingen",
        "05122000",
        "rathaus",
    )
    configured = load_settings({"data_dir": tmp_path, "city_name": "Haßfurt"}, environ={})
    assert with_demo_settings(configured).city_name == "Haßfurt"
