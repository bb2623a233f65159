"""The admin API of screens: layouts checked tile by tile, heartbeats, silent screens."""

from __future__ import annotations

import pytest
from tests.screens.helpers import TILE_TYPES, create_dataset, create_sensor, observe


@pytest.fixture
def uv_stream(hub):
    return create_sensor(hub, "UV-Index", "")


def test_a_screen_is_created_replaced_listed_and_deleted(hub, uv_stream):
    layout = {
        "title": "Rathaus, Foyer",
        "group": "innenstadt",
        "orientation": "portrait",
        "tiles": [{"type": "uv", "datastream": uv_stream}, {"type": "qr", "url": "/"}],
    }
    created = hub.put("/api/admin/screens/rathaus", json=layout)
    assert created.status_code == 201, created.text
    screen = created.json()
    assert screen["slug"] == "rathaus"
    assert screen["group"] == "innenstadt"
    assert screen["orientation"] == "portrait"
    assert screen["tiles"][0] == {
        "type": "uv",
        "datastream": uv_stream,
        "title": None,
        "stale_minutes": None,
    }
    assert screen["last_seen"] is None
    assert screen["silent"] is True

    layout["title"] = "Rathaus, Eingang"
    replaced = hub.put("/api/admin/screens/rathaus", json=layout)
    assert replaced.status_code == 200
    assert hub.get("/api/admin/screens/rathaus", headers=hub.admin).json()["title"] == (
        "Rathaus, Eingang"
    )
    listed = hub.get("/api/admin/screens", headers=hub.admin).json()
    assert [s["slug"] for s in listed] == ["rathaus"]
    assert set(listed[0]) >= {
        "slug",
        "title",
        "group",
        "orientation",
        "tiles",
        "last_seen",
        "version",
        "silent",
    }

    assert hub.delete("/api/admin/screens/rathaus").status_code == 204
    assert hub.get("/api/admin/screens/rathaus", headers=hub.admin).status_code == 404
    assert hub.delete("/api/admin/screens/rathaus").status_code == 404


def test_the_admin_api_needs_an_admin_token(hub):
    assert hub.get("/api/admin/screens").status_code == 401
    assert hub.put("/api/admin/screens/x", json={}, auth=False).status_code == 401
    assert hub.post("/api/admin/crisis", json={}, auth=False).status_code == 401


@pytest.mark.parametrize(
    ("tiles", "index", "option", "words"),
    [
        ([{"type": "clock"}], 0, "type", "unknown tile type"),
        ([{"type": "qr", "url": "/"}, {"type": "uv"}], 1, "datastream", "is required"),
        ([{"type": "uv", "datastream": "five"}], 0, "datastream", "must be the @iot.id"),
        ([{"type": "uv", "datastream": 1, "colour": "red"}], 0, "colour", "unknown option"),
        ([{"type": "departures", "stop": "X", "limit": 99}], 0, "limit", "at most 20"),
        ([{"type": "qr", "url": "ftp://x"}], 0, "url", "http(s) URL"),
        ([{"type": "air"}], 0, "pm10", "at least one"),
        ([{"type": "uv", "datastream": 999999}], 0, "datastream", "no public Datastream"),
        ([{"type": "parking", "collection": "nope", "features": ["a"]}], 0, "collection", "no "),
        ([{"type": "departures", "stop": "nowhere"}], 0, "stop", "no stop 'nowhere'"),
    ],
)
def test_a_wrong_tile_is_a_400_naming_the_tile_and_option(hub, tiles, index, option, words):
    body = {"title": "T", "group": None, "orientation": "landscape", "tiles": tiles}
    response = hub.put("/api/admin/screens/lobby", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["tile"] == index
    assert error["option"] == option
    assert f"tiles[{index}].{option}" in error["message"]
    assert words in error["message"]
    assert hub.get("/api/admin/screens/lobby", headers=hub.admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"group": None, "tiles": []}, "title is required"),
        ({"title": "T", "orientation": "upside-down", "tiles": []}, "orientation"),
        ({"title": "T", "group": 5, "tiles": []}, "group must be"),
        ({"title": "T", "tiles": {}}, "tiles must be a list"),
        ({"title": "T", "tiles": [], "colour": 1}, "unknown field"),
        ([1, 2], "send {"),
    ],
)
def test_a_wrong_screen_is_a_400(hub, body, words):
    response = hub.put("/api/admin/screens/lobby", json=body)
    assert response.status_code == 400
    assert words in response.json()["message"]


def test_a_bad_slug_is_a_400(hub):
    response = hub.put("/api/admin/screens/Foyer%20A", json={"title": "T", "tiles": []})
    assert response.status_code == 400
    assert "slug" in response.json()["message"]


def test_a_restricted_datastream_is_never_put_on_a_screen(hub):
    create_dataset(hub, "intern", "restricted")
    hidden = create_sensor(hub, "Pegel intern", "cm", dataset="intern")
    body = {"title": "T", "tiles": [{"type": "water", "datastream": hidden}]}
    response = hub.put("/api/admin/screens/lobby", json=body)
    assert response.status_code == 400
    assert "screens show public data only" in response.json()["message"]


def test_tile_types_describe_every_option_for_a_form(hub):
    types = {
        t["type"]: t for t in hub.get("/api/admin/screens/tile-types", headers=hub.admin).json()
    }
    assert set(types) == TILE_TYPES
    for tile in types.values():
        for option in tile["options"]:
            assert set(option) >= {"name", "type", "required", "description"}
    uv = {o["name"]: o for o in types["uv"]["options"]}
    assert uv["datastream"]["type"] == "datastream"
    assert uv["datastream"]["required"] is True
    # Unset by default: the Datastreams' expected interval decides; departures keep theirs.
    assert uv["stale_minutes"]["default"] is None
    assert uv["stale_minutes"]["type"] == "integer"
    departures = {o["name"]: o for o in types["departures"]["options"]}
    assert departures["stale_minutes"]["default"] == 5


def test_a_heartbeat_is_listed_and_a_silent_screen_is_marked(hub, uv_stream):
    body = {"title": "T", "tiles": [{"type": "uv", "datastream": uv_stream}]}
    assert hub.put("/api/admin/screens/lobby", json=body).status_code == 201
    beat = hub.post("/api/screens/lobby/heartbeat", json={"version": "0.1.0"}, auth=False)
    assert beat.status_code == 200
    screen = hub.get("/api/admin/screens/lobby", headers=hub.admin).json()
    assert screen["version"] == "0.1.0"
    assert screen["last_seen"] is not None
    assert screen["silent"] is False
    unknown = hub.post("/api/screens/nowhere/heartbeat", json={"version": "1"}, auth=False)
    assert unknown.status_code == 404
    bad = hub.post("/api/screens/lobby/heartbeat", json={"version": 7}, auth=False)
    assert bad.status_code == 400


def test_the_state_shows_the_latest_value_with_its_band(hub, uv_stream):
    observe(hub, uv_stream, 2.0, minutes_ago=30)
    observe(hub, uv_stream, 6.4, minutes_ago=1)
    body = {"title": "T", "tiles": [{"type": "uv", "datastream": uv_stream}]}
    assert hub.put("/api/admin/screens/lobby", json=body).status_code == 201
    state = hub.get("/api/screens/lobby").json()
    tile = state["tiles"][0]
    assert tile["value"] == 6.4
    assert tile["band"] == "high"
    assert tile["today_high"] >= 6.4
    assert tile["as_of"] is not None
    assert state["screen"]["title"] == "T"
    assert "server_time" in state
    assert hub.get("/api/screens/nowhere").status_code == 404


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"title": "x" * 201}, "title must be at most 200"),
        ({"title": "Foyer\u0000"}, "control characters"),
        ({"group": "g" * 201}, "group must be"),
        ({"group": "mitte\u0000"}, "group must be"),
        ({"tiles": [{"type": "qr", "url": "/", "label": "x" * 501}]}, "tiles[0].label (qr)"),
        ({"tiles": [{"type": "qr", "url": "/", "label": "mehr\u0000"}]}, "tiles[0].label (qr)"),
        ({"tiles": [{"type": "ticker", "items": ["x"] * 101}]}, "tiles[0].items (ticker)"),
        ({"tiles": [{"type": "ticker", "items": ["ok", "a\u001bb"]}]}, "tiles[0].items"),
        ({"tiles": [{"type": "qr", "url": "javascript:alert(1)"}]}, "tiles[0].url (qr)"),
        ({"tiles": [{"type": "qr", "url": "/\t/elsewhere.example"}]}, "tiles[0].url (qr)"),
        ({"tiles": [{"type": "qr", "url": "/\\elsewhere.example"}]}, "tiles[0].url (qr)"),
        ({"tiles": [{"type": "qr", "url": "/" + "x" * 2000}]}, "tiles[0].url (qr)"),
        ({"tiles": [{"type": "uv", "datastream": 2**31}]}, "tiles[0].datastream (uv)"),
        ({"tiles": [{"type": "uv", "datastream": 2**62}]}, "tiles[0].datastream (uv)"),
    ],
)
def test_a_layout_with_an_oversized_or_invisible_text_is_a_400_on_both_backends(hub, change, words):
    body = {"title": "Foyer", "tiles": [{"type": "qr", "url": "/"}]} | change
    response = hub.put("/api/admin/screens/foyer", json=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["message"]
    assert hub.get("/api/admin/screens/foyer", headers=hub.admin).status_code == 404


def test_a_heartbeat_with_a_control_character_is_a_400(hub):
    body = {"title": "T", "tiles": [{"type": "qr", "url": "/"}]}
    assert hub.put("/api/admin/screens/lobby", json=body).status_code == 201
    bad = hub.post("/api/screens/lobby/heartbeat", json={"version": "1\u0000"}, auth=False)
    assert bad.status_code == 400
    assert "version" in bad.json()["message"]
