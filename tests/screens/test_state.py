"""What a screen shows: every tile of the demo screen filled from the hub's own data, water
level trends, stale values, the page and its service worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.features.helpers import add_collection, add_dataset, add_features
from tests.screens.helpers import TILE_TYPES, create_sensor, observe

from cityhub.demo import load_demo


@pytest.fixture
def demo_hub(sqlite_hub):
    load_demo(sqlite_hub.store)
    return sqlite_hub


def test_the_demo_screen_fills_every_tile_type(demo_hub):
    state = demo_hub.get("/api/screens/rathaus").json()
    tiles = {tile["type"]: tile for tile in state["tiles"]}
    assert set(tiles) == TILE_TYPES
    for tile in tiles.values():
        assert tile.get("available", True), tile
    assert len(tiles["departures"]["departures"]) >= tiles["departures"]["limit"]
    assert tiles["departures"]["stop"] == "Solingen Graf-Wilhelm-Platz"
    garages = tiles["parking"]["garages"]
    assert len(garages) == 5
    assert all(isinstance(g["free"], int) and g["capacity"] > 0 for g in garages)
    assert tiles["weather"]["now"]["temperature"]["unit"] == "°C"
    assert tiles["weather"]["today"]["low"] <= tiles["weather"]["today"]["high"]
    assert tiles["uv"]["band"] in {"low", "moderate", "high", "very_high", "extreme"}
    assert tiles["water"]["trend"] in {"rising", "falling", "steady"}
    assert tiles["air"]["index"] is not None
    assert set(tiles["air"]["pollutants"]) == {"pm10", "pm2p5", "no2"}
    layers = {layer["collection"]: layer for layer in tiles["map"]["layers"]}
    assert len(layers["parkhaeuser"]["features"]) == 5
    assert tiles["qr"]["url"] == "http://testserver/"
    assert tiles["qr"]["svg"].startswith("<svg")
    assert tiles["ticker"]["items"]
    for kind in ("parking", "weather", "uv", "water", "air"):
        assert tiles[kind]["as_of"] is not None, kind
        assert tiles[kind]["stale_after"] > 0, kind


def test_a_second_demo_load_keeps_the_screen_as_edited(demo_hub):
    layout = demo_hub.get("/api/admin/screens/rathaus", headers=demo_hub.admin).json()
    edited = {"title": "Foyer", "group": None, "tiles": layout["tiles"][:1]}
    assert demo_hub.put("/api/admin/screens/rathaus", json=edited).status_code == 200
    load_demo(demo_hub.store)
    assert demo_hub.get("/api/screens/rathaus").json()["screen"]["title"] == "Foyer"


@pytest.mark.parametrize(
    ("levels", "trend"),
    [((100, 110), "rising"), ((110, 100), "falling"), ((100, 101), "steady")],
)
def test_the_water_level_trend(hub, levels, trend):
    stream = create_sensor(hub, "Pegel", "cm")
    observe(hub, stream, levels[0], minutes_ago=70)
    observe(hub, stream, levels[1], minutes_ago=1)
    tile = {"type": "water", "datastream": stream, "warn_level": 105}
    assert hub.put("/api/admin/screens/pegel", json={"title": "P", "tiles": [tile]}).is_success
    water = hub.get("/api/screens/pegel").json()["tiles"][0]
    assert water["trend"] == trend
    assert water["change"] == levels[1] - levels[0]
    assert water["warning"] is (levels[1] >= 105)
    assert water["unit"] == "cm"


def test_a_tile_without_readings_says_so(hub):
    stream = create_sensor(hub, "UV", "")
    body = {"title": "T", "tiles": [{"type": "uv", "datastream": stream}]}
    assert hub.put("/api/admin/screens/leer", json=body).status_code == 201
    tile = hub.get("/api/screens/leer").json()["tiles"][0]
    assert tile["value"] is None
    assert tile["as_of"] is None


def test_the_page_and_its_service_worker(sqlite_hub):
    body = {"title": "Foyer <Ost>", "tiles": [{"type": "qr", "url": "https://example.org/x"}]}
    assert sqlite_hub.put("/api/admin/screens/foyer", json=body).status_code == 201
    page = sqlite_hub.get("/screens/foyer")
    assert page.status_code == 200
    assert "Foyer &lt;Ost&gt;" in page.text
    assert '"slug": "foyer"' in page.text or '"slug":"foyer"' in page.text
    english = sqlite_hub.get("/screens/foyer?lang=en")
    assert "information screen" in english.text
    missing = sqlite_hub.get("/screens/nowhere")
    assert missing.status_code == 404
    assert "nowhere" in missing.text
    worker = sqlite_hub.get("/screens/sw.js")
    assert worker.status_code == 200
    assert "javascript" in worker.headers["content-type"]
    assert worker.headers["service-worker-allowed"] == "/screens/"
    assert "caches.match" in worker.text


def test_the_ticker_shows_texts_then_current_and_coming_events(hub):
    now = datetime.now(UTC)
    public = add_collection(hub, add_dataset(hub, "kultur"), "termine")
    hidden = add_collection(hub, add_dataset(hub, "intern", "restricted"), "geheim")
    add_features(
        hub,
        public,
        [
            {"properties": {"title": "Markt"}, "start": now + timedelta(days=2)},
            {"properties": {"title": "Konzert"}, "start": now + timedelta(hours=3)},
            {
                "properties": {"title": "Ausstellung"},
                "start": now - timedelta(days=5),
                "end": now + timedelta(days=5),
            },
            {"properties": {"title": "Vorbei"}, "start": now - timedelta(days=3)},
            {"properties": {"title": "Zu fern"}, "start": now + timedelta(days=60)},
        ],
    )
    add_features(hub, hidden, [{"properties": {"title": "Intern"}, "start": now}])
    tile = {"type": "ticker", "items": ["Willkommen"], "collection": "termine"}
    assert hub.put("/api/admin/screens/kultur", json={"title": "K", "tiles": [tile]}).is_success
    items = hub.get("/api/screens/kultur").json()["tiles"][0]["items"]
    assert [i["text"] for i in items] == ["Willkommen", "Ausstellung", "Konzert", "Markt"]
    refused = {"title": "K", "tiles": [{"type": "ticker", "collection": "geheim"}]}
    response = hub.put("/api/admin/screens/kultur", json=refused)
    assert response.status_code == 400
    assert "no public feature collection 'geheim'" in response.json()["message"]


def _declare(hub, stream: int, interval: str) -> None:
    body = {"properties": {"expectedInterval": interval}}
    response = hub.patch(f"/v1.1/Datastreams({stream})", json=body)
    assert response.is_success, response.text


def _tile(hub, slug: str, tile: dict) -> dict:
    assert hub.put(f"/api/admin/screens/{slug}", json={"title": "T", "tiles": [tile]}).is_success
    return hub.get(f"/api/screens/{slug}").json()["tiles"][0]


def _age(tile: dict) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(tile["as_of"])).total_seconds()


def test_a_declared_interval_makes_the_tile_stale_as_on_the_portal(hub):
    stream = create_sensor(hub, "UV", "")
    _declare(hub, stream, "PT5M")
    for minutes in (30, 20, 10):
        observe(hub, stream, 3, minutes_ago=minutes)
    tile = _tile(hub, "uv", {"type": "uv", "datastream": stream})
    assert tile["stale_after"] == 450  # 5 minutes and half of it again
    assert _age(tile) > tile["stale_after"]  # the page marks it stale
    assert "veraltet" in hub.get(f"/datastreams/{stream}").text


def test_without_a_declaration_the_spacing_of_the_observations_counts(hub):
    stream = create_sensor(hub, "Pegel", "cm")
    for minutes in (60, 40, 20):
        observe(hub, stream, 100, minutes_ago=minutes)
    tile = _tile(hub, "pegel", {"type": "water", "datastream": stream})
    assert tile["stale_after"] == pytest.approx(1800, abs=5)  # 20 minutes apart, × 1.5
    assert _age(tile) < tile["stale_after"]
    assert "veraltet" not in hub.get(f"/datastreams/{stream}").text
    override = _tile(hub, "pegel", {"type": "water", "datastream": stream, "stale_minutes": 5})
    assert override["stale_after"] == 300


def test_a_tile_of_several_streams_turns_stale_when_the_first_of_them_is_late(hub):
    temperature = create_sensor(hub, "Temperatur", "°C")
    rain = create_sensor(hub, "Niederschlag", "mm")
    _declare(hub, temperature, "PT5M")
    _declare(hub, rain, "PT1H")
    observe(hub, rain, 0.2, minutes_ago=40)
    observe(hub, temperature, 4.5, minutes_ago=2)
    tile = _tile(
        hub, "wetter", {"type": "weather", "temperature": temperature, "precipitation": rain}
    )
    # The oldest value is the rain's (40 minutes); the thermometer is late first, 7.5 minutes
    # after its value of 2 minutes ago: 45.5 minutes after the oldest value.
    assert tile["stale_after"] == pytest.approx(45.5 * 60, abs=5)
    assert tile["stale_after"] < 60 * 60 * 1.5
