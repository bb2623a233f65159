"""The portal's "near me" page over HTTP, on both backends: the nearest places of every
collection by distance, their live values, today's figures from the portal's screen, the
access rule, and a bad location as a 400 page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import HubClient
from tests.features.helpers import add_collection, add_dataset, add_features, point
from tests.screens.helpers import create_sensor, observe

#: Neumarkt, Solingen: where the tests stand.
HERE = "51.1700,7.0800"
#: Metres per degree of latitude, near enough for placing features at known distances.
LAT_METRES = 111_200


def _north(metres: float) -> dict[str, Any]:
    return point(7.08, 51.17 + metres / LAT_METRES)


@pytest.fixture
def nearby_hub(backend_settings: Any) -> Iterator[HubClient]:
    client = HubClient(backend_settings.model_copy(update={"portal_screen": "lobby"}))
    yield client
    client.close()


@pytest.fixture
def places(nearby_hub: HubClient) -> HubClient:
    hub = nearby_hub
    toilets = add_collection(hub, add_dataset(hub, "orte"), "toiletten", "Öffentliche Toiletten")
    named = [("WC Fern", 30_000), ("WC Weit", 1_240), ("WC Mitte", 420), ("WC Nah", 118)]
    add_features(
        hub,
        toilets,
        [{"geometry": _north(m), "properties": {"name": n}} for n, m in named]
        + [{"geometry": _north(2_500), "properties": {"name": "WC Vierte"}}],
    )
    secret = add_collection(hub, add_dataset(hub, "intern", "restricted"), "tresore", "Tresore")
    add_features(hub, secret, [{"geometry": _north(10), "properties": {"name": "Tresor"}}])
    uv = create_sensor(hub, "UV-Index", "UVI")
    observe(hub, uv, 4.0, minutes_ago=30)
    observe(hub, uv, 6.2, minutes_ago=1)
    forecast = create_sensor(hub, "Lufttemperatur morgen", "°C")
    observe(hub, forecast, 9.5, minutes_ago=-24 * 60)
    tiles = [{"type": "uv", "datastream": uv}, {"type": "qr", "url": "/"}]
    layout = {"title": "Foyer", "tiles": tiles}
    assert hub.put("/api/admin/screens/lobby", json=layout).status_code == 201
    return hub


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_nearest_places_of_each_collection_are_listed_by_distance(places):
    page = places.get(f"/nearby?at={HERE}")
    assert page.status_code == 200
    text = _text(page.text)
    toilets = text.split("Öffentliche Toiletten", 1)[1]
    assert re.search(r"WC Nah 120 m WC Mitte 420 m WC Weit 1,2 km", toilets)
    assert "WC Vierte" not in text  # three per collection
    assert "WC Fern" not in text  # farther than 20 km is not near
    assert 'href="/collections/toiletten/' in page.text
    sensors = text.split("Sensoren", 1)[1]
    assert "Station UV-Index" in sensors
    assert re.search(r"UV-Index: 6,2 UVI \(Stand ", sensors)
    assert re.search(r"Lufttemperatur morgen: 9,5 °C \(Vorhersage für ", sensors)
    assert '<link rel="canonical" href="http://testserver/nearby?at=51.17%2C7.08">' in page.text


def test_todays_figures_come_from_the_portal_screen(places):
    text = _text(places.get(f"/nearby?at={HERE}").text)
    today = text.split("Heute", 1)[1]
    assert "UV-Index 6,2 – Hoch" in today
    assert "Sonnenschutz nötig" in today
    assert "Heute höchstens 6,2 (Hoch)" in text
    english = _text(places.get(f"/nearby?at={HERE}&lang=en").text)
    assert "Today" in english
    assert "6.2 – High" in english


def test_the_map_page_sums_up_todays_figures_and_links_near_me(places):
    text = _text(places.get("/").text)
    assert "Heute UV-Index: 6,2 – Hoch , Heute höchstens 6,2 (Hoch)" in text
    assert "Was ist in der Nähe der Kartenmitte?" in text


def test_restricted_places_are_absent_without_a_token_that_may_read_them(places):
    assert "Tresor" not in places.get(f"/nearby?at={HERE}").text
    assert "Tresor" in places.get(f"/nearby?at={HERE}", headers=places.admin).text


def test_without_a_location_the_page_starts_from_the_map_centre(places):
    page = places.get("/nearby")
    assert page.status_code == 200
    assert "Von der Stadtmitte aus" in page.text
    assert 'id="locate"' in page.text  # the page offers the browser's location
    assert '<link rel="canonical" href="http://testserver/nearby">' in page.text


@pytest.mark.parametrize("at", ["91,7", "51.17", "x,y", "51.17,7.08,3"])
def test_a_bad_location_is_a_400_page_naming_the_format(sqlite_hub, at):
    page = sqlite_hub.get(f"/nearby?at={at}")
    assert page.status_code == 400
    assert "LATITUDE,LONGITUDE" in page.text
    assert "<html" in page.text


def test_without_a_portal_screen_there_are_no_figures_of_today(sqlite_hub):
    page = sqlite_hub.get(f"/nearby?at={HERE}")
    assert page.status_code == 200
    assert "today-heading" not in page.text
    assert "In 20 km Umkreis ist nichts verzeichnet." in page.text


def test_stops_near_the_point_show_their_next_three_departures(hub):
    from cityhub.demo import demo_identifiers, load_demo
    from cityhub.demo_transit import HBF

    load_demo(hub.store)
    ids = demo_identifiers()
    stops = hub.get(f"/features/collections/{ids.stops_collection}/items?limit=100").json()
    (station,) = [f for f in stops["features"] if f["properties"]["id"] == HBF]
    lon, lat = station["geometry"]["coordinates"]
    page = hub.get(f"/nearby?at={lat},{lon}")
    assert page.status_code == 200
    tables = re.findall(r'<table class="departures">.*?</table>', page.text, re.S)
    assert tables
    assert all(0 < table.count("<time ") <= 3 for table in tables)
    stop_page = hub.get(f"/collections/{ids.stops_collection}/{station['id']}")
    assert stop_page.status_code == 200
    assert stop_page.text.count('<table class="departures">') == 1
    assert 3 < stop_page.text.split('<table class="departures">')[1].count("<time ") <= 5
