"""The portal in a real headless Chromium: map layers and popups from the demo data, a
Datastream page's chart and table, keyboard access, axe-core, no request leaving the machine.

The hub is configured without internet: tiles are served by the hub itself (a relative tile
URL template pointing at a packaged image) and the districts are the vector base map.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.browser.conftest import LiveHub, axe_violations, start_demo_hub

TILES = "/static/vendor/leaflet/images/layers.png?z={z}&x={x}&y={y}"


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    hub = start_demo_hub(
        tmp_path_factory.mktemp("portal-hub"),
        map_tiles=TILES,
        map_attribution="Test tiles",
        map_base_collection="stadtbezirke",
        city_name="Solingen",
    )
    yield hub
    hub.close()


@pytest.fixture
def requests_seen(page: Any) -> list[str]:
    """Every URL the page asks for, to prove that nothing leaves the machine."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def _all_local(seen: list[str], hub: LiveHub) -> None:
    foreign = [url for url in seen if not url.startswith((hub.url, "data:", "blob:"))]
    assert seen
    assert foreign == []


def _station(hub: LiveHub) -> str:
    """LAT/LON of the demo's weather station (Thing 7), from the features API."""
    with hub.http() as client:
        lon, lat = client.get("/features/collections/sensors/items/7").json()["geometry"][
            "coordinates"
        ]
    return f"{lat}/{lon}"


def _open_map(page: Any, hub: LiveHub, query: str = "") -> None:
    page.goto(f"{hub.url}/{query}")
    page.wait_for_selector("#map[data-ready=true]", timeout=20000)


def test_the_map_shows_the_layers_and_a_sensor_popup_with_values(
    page, page_log, live_hub, requests_seen, shoot
):
    _open_map(page, live_hub)
    labels = page.locator(".layer-list label").all_inner_texts()
    assert any("Toiletten" in label for label in labels)
    assert any("Sensoren" in label for label in labels)
    assert not any("Stadtbezirke" in label for label in labels)  # the base map, not a layer
    assert page.locator(".leaflet-tile-loaded").count() > 0  # tiles from the hub itself
    assert page.locator("path.base-shape").count() == 5  # districts as vector base map
    markers = page.locator(".leaflet-marker-icon")
    assert markers.count() > 0
    assert "Objekte auf der Karte" in page.locator("#map-status").inner_text()
    _open_map(page, live_hub, f"?map=19/{_station(live_hub)}&layers=sensors")
    marker = page.locator(".leaflet-marker-icon[title*='Wetterstation Rathaus']")
    marker.click()
    popup = page.locator(".leaflet-popup-content .card")
    popup.wait_for()
    text = popup.inner_text()
    assert "Wetterstation Rathaus" in text
    assert "Lufttemperatur" in text
    assert "°C" in text
    assert "Stand" in text
    assert "feature=sensors/7" in page.url
    shoot(page, "map-popup")
    page_log.assert_clean()
    _all_local(requests_seen, live_hub)


def test_a_toilet_popup_shows_its_properties_and_the_layers_switch(page, page_log, live_hub):
    _open_map(page, live_hub, "?layers=oeffentliche-toiletten")
    assert page.locator(".leaflet-marker-icon[title*='Sensoren']").count() == 0
    page.locator("#layer-sensors").check()
    page.wait_for_function("location.search.includes('sensors')")
    assert "layers=oeffentliche-toiletten,sensors" in page.url
    page.locator("#layer-oeffentliche-toiletten").uncheck()
    page.wait_for_function("!location.search.includes('toiletten')")
    _open_map(page, live_hub, "?map=13/51.1712/7.0845&layers=oeffentliche-toiletten")
    icon = page.locator(".marker-cluster, .leaflet-marker-icon").first
    icon.wait_for()
    page.goto(f"{live_hub.url}/?layers=oeffentliche-toiletten&feature=oeffentliche-toiletten/6")
    card = page.locator(".leaflet-popup-content .card")
    card.wait_for(timeout=20000)
    assert "barrierefrei" in card.inner_text()
    page_log.assert_clean()


def test_a_datastream_page_shows_its_chart_and_table(page, page_log, live_hub, shoot):
    page.goto(f"{live_hub.url}/datastreams/13")
    page.wait_for_selector("#chart[data-ready=true] canvas", timeout=20000)
    rows = page.locator("table.series tbody tr")
    assert rows.count() > 100  # a day of 10-minute values
    assert "°C" in page.locator("table.series caption").inner_text()
    shoot(page, "datastream-day")
    page.locator("#range-week").check()
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_selector("#chart[data-ready=true] canvas")
    assert "range=week" in page.url
    assert page.locator("link[rel=canonical]").get_attribute("href").endswith("range=week")
    page_log.assert_clean()


def _tab_through(page: Any, presses: int) -> set[str]:
    """Press Tab and note a description of every element that receives focus."""
    reached: set[str] = set()
    for _ in range(presses):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("() => window.__describe(document.activeElement)"))
    return reached


DESCRIBE = """() => { window.__describe = (e) => e.tagName + '|' + (e.id || '') + '|' +
    (e.getAttribute('href') || e.getAttribute('title') || e.getAttribute('aria-label')
     || e.getAttribute('value') || e.textContent.trim().slice(0, 40)); }"""

#: Every control Tab should reach (of a radio group the checked one; arrows move within it).
FOCUSABLE = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')]
    .filter((e) => !e.disabled && e.getClientRects().length > 0
        && !(e.type === 'radio' && !e.checked)
        && getComputedStyle(e).visibility !== 'hidden')
    .map((e) => window.__describe(e))"""


@pytest.mark.parametrize(
    "path",
    [
        "/?map=15/51.1712/7.0845&layers=oeffentliche-toiletten",
        "/datastreams/13",
        "/datasets",
        "/nearby?at=51.1718,7.0839",
    ],
    ids=["map", "datastream", "datasets", "nearby"],
)
def test_the_keyboard_reaches_every_control(page, live_hub, path):
    page.goto(live_hub.url + path)
    page.wait_for_load_state("networkidle")
    page.evaluate(DESCRIBE)
    controls = set(page.evaluate(FOCUSABLE))
    reached = _tab_through(page, 2 * len(controls) + 10)  # a date field takes three Tabs
    missed = controls - reached
    assert missed == set(), sorted(missed)


def test_a_popup_opens_from_the_keyboard(page, page_log, live_hub):
    _open_map(page, live_hub, f"?map=19/{_station(live_hub)}&layers=sensors")
    marker = page.locator(".leaflet-marker-icon[title*='Wetterstation Rathaus']")
    marker.focus()
    page.keyboard.press("Enter")
    page.locator(".leaflet-popup-content .card").wait_for()
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused == "Wetterstation Rathaus"  # focus moves to the popup's heading
    page_log.assert_clean()


def _feature_path(hub: LiveHub, name: str) -> str:
    """COLLECTION/ID of the feature named ``name``, found by the portal's search."""
    with hub.http() as client:
        found = client.get("/api/search", params={"q": name}).json()["results"]
    path = next(hit["path"] for hit in found if hit["kind"] == "feature" and hit["name"] == name)
    return path.removeprefix("/collections/")


def test_a_stop_shows_its_next_departures_and_a_car_park_its_free_spaces(
    page, page_log, live_hub, shoot
):
    stop = _feature_path(live_hub, "Solingen Graf-Wilhelm-Platz")
    page.goto(f"{live_hub.url}/?layers=haltestellen&feature={stop}")
    card = page.locator(".leaflet-popup-content .card")
    card.wait_for(timeout=20000)
    assert "Nächste Abfahrten" in card.inner_text()
    assert card.locator("table.departures tbody tr").count() == 5
    shoot(page, "stop-popup")
    garage = _feature_path(live_hub, "Parkhaus Rathaus")
    page.goto(f"{live_hub.url}/?layers=parkhaeuser&feature={garage}")
    card = page.locator(".leaflet-popup-content .card")
    card.wait_for(timeout=20000)
    assert "Freie Stellplätze" in card.inner_text()
    assert "Stand" in card.inner_text()
    page_log.assert_clean()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/datasets",
        "/datasets/solingen-sensoren",
        "/collections/oeffentliche-toiletten",
        "/collections/oeffentliche-toiletten/6",
        "/things/7",
        "/datastreams/13",
        "/search?q=Rathaus",
        "/nearby?at=51.1718,7.0839",
        "/datasets/no-such-dataset",
        "/?lang=en",
    ],
    ids=lambda path: path.strip("/").replace("/", "-").replace("?", "-") or "map",
)
def test_axe_finds_no_serious_violations(page, live_hub, shoot, path):
    page.goto(live_hub.url + path)
    page.wait_for_load_state("networkidle")
    if path.startswith("/?") or path == "/":
        page.wait_for_selector("#map[data-ready=true]")
    shoot(page, "axe")
    assert axe_violations(page) == []


def test_the_portal_speaks_english_when_asked(page, live_hub):
    page.goto(f"{live_hub.url}/datastreams/13?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Show").is_visible()
    page.goto(f"{live_hub.url}/things/7")  # the choice is remembered
    assert "Current values" in page.locator("main").inner_text()


def test_near_me_lists_free_parking_the_next_buses_and_todays_uv_index(
    page, page_log, live_hub, shoot
):
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 51.1718, "longitude": 7.0839})
    page.goto(f"{live_hub.url}/nearby")
    page.get_by_role("button", name="Meinen Standort verwenden").click()
    page.wait_for_url("**/nearby?at=51.17180%2C7.08390")
    main = page.locator("main")
    today = main.locator("section.today")
    assert "Heute in Solingen" in today.inner_text()
    assert "UV-Index" in today.inner_text()
    assert "Heute höchstens" in today.inner_text()
    stops = main.locator("section.nearby-group", has_text="Nächste Abfahrten").first
    assert stops.locator("table.departures tbody tr").count() >= 1
    parking = main.locator("section.nearby-group", has_text="Freie Stellplätze").first
    assert parking.locator("li a").first.inner_text().startswith(("Parkhaus", "Tiefgarage"))
    shoot(page, "nearby")
    page_log.assert_clean()


def test_the_map_offers_what_is_near_its_centre(page, page_log, live_hub):
    _open_map(page, live_hub, "?map=16/51.17/7.08")
    link = page.locator("#nearby-link")
    assert link.get_attribute("href").endswith("/nearby?at=51.17000,7.08000")
    page.evaluate("() => window.scrollTo(0, 0)")
    link.click()
    page.wait_for_url("**/nearby?at=51.17000,7.08000")
    assert page.locator("h1").inner_text() == "In der Nähe"
    page_log.assert_clean()
