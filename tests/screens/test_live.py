"""The live feed: a change written by any process reaches the subscribed screens within
seconds; nothing is pushed when nothing changed."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from tests.conftest import HubClient
from tests.screens.helpers import create_dataset, create_sensor, observe

from cityhub.screens import live
from cityhub.screens.live import GONE

BASE = "http://hub.example"


@pytest.fixture
def lobby(hub):
    stream = create_sensor(hub, "UV", "")
    observe(hub, stream, 3.0, minutes_ago=5)
    body = {"title": "Lobby", "group": "mitte", "tiles": [{"type": "uv", "datastream": stream}]}
    assert hub.put("/api/admin/screens/lobby", json=body).status_code == 201
    return stream


def _subscribe(hub, slug):
    feed = hub.app.state.screens

    async def subscribe():
        return feed.subscribe(slug, BASE, await feed.state(slug, BASE))

    return hub.portal.call(subscribe)


def _next(hub, queue, seconds):
    async def get():
        return await asyncio.wait_for(queue.get(), seconds)

    return hub.portal.call(get)


def test_an_observation_written_by_another_process_is_pushed(hub, lobby):
    queue = _subscribe(hub, "lobby")
    other = HubClient(hub.settings)  # another hub process on the same database
    try:
        observe(other, lobby, 9.0)
    finally:
        other.close()
    state = orjson.loads(_next(hub, queue, 5))
    assert state["tiles"][0]["value"] == 9.0
    assert state["tiles"][0]["band"] == "very_high"
    with pytest.raises(TimeoutError):
        _next(hub, queue, 2.5)  # nothing changed, nothing pushed


def test_crisis_messages_and_a_deleted_screen_are_pushed(hub, lobby):
    queue = _subscribe(hub, "lobby")
    pushed = hub.post("/api/admin/crisis", json={"text": "Sturm", "severity": "critical"})
    assert pushed.status_code == 201
    state = orjson.loads(_next(hub, queue, 5))
    assert [m["text"] for m in state["crisis"]] == ["Sturm"]
    assert hub.delete(f"/api/admin/crisis/{pushed.json()['id']}").status_code == 204
    assert orjson.loads(_next(hub, queue, 5))["crisis"] == []
    other_group = hub.post(
        "/api/admin/crisis", json={"text": "x", "severity": "warning", "group": "ohligs"}
    )
    assert other_group.status_code == 201
    with pytest.raises(TimeoutError):
        _next(hub, queue, 2.5)  # not for this screen's group
    assert hub.delete("/api/admin/screens/lobby").status_code == 204
    assert _next(hub, queue, 5) == GONE


def test_the_poller_stops_when_the_last_screen_leaves(hub, lobby):
    feed = hub.app.state.screens
    queue = _subscribe(hub, "lobby")
    assert feed.connected == 1
    hub.portal.call(lambda: _unsubscribe(feed, queue))
    assert feed.connected == 0

    async def stopped():
        for _ in range(50):
            if feed._task is None or feed._task.done():
                return True
            await asyncio.sleep(0.1)
        return False

    assert hub.portal.call(stopped)


async def _unsubscribe(feed, queue):
    feed.unsubscribe("lobby", queue)


def test_an_observation_of_this_process_wakes_the_poller(hub, lobby, monkeypatch):
    monkeypatch.setattr(live, "INTERVAL", 60.0)  # by the clock, no look for a minute
    queue = _subscribe(hub, "lobby")
    hub.portal.call(asyncio.sleep, 0.5)  # the first look is taken; the poller waits
    observe(hub, lobby, 7.0)
    state = orjson.loads(_next(hub, queue, 5))
    assert state["tiles"][0]["value"] == 7.0


def _restricted_later(hub):
    """A public dataset with a UV Datastream on screen 'lobby'; the Datastream's id."""
    create_dataset(hub, "pegel")
    stream = create_sensor(hub, "UV", "", dataset="pegel")
    observe(hub, stream, 7.0, minutes_ago=1)
    body = {"title": "Lobby", "tiles": [{"type": "uv", "datastream": stream}]}
    assert hub.put("/api/admin/screens/lobby", json=body).status_code == 201
    return stream


def test_data_made_restricted_leaves_a_connected_screen_at_once(hub, monkeypatch):
    monkeypatch.setattr(live, "REFRESH", 600.0)  # only a change may cause a push
    _restricted_later(hub)
    queue = _subscribe(hub, "lobby")
    assert hub.get("/api/screens/lobby").json()["tiles"][0]["value"] == 7.0
    changed = hub.patch("/api/admin/datasets/pegel", json={"visibility": "restricted"})
    assert changed.status_code == 200, changed.text
    assert hub.get("/api/screens/lobby").json()["tiles"][0]["value"] is None
    pushed = orjson.loads(_next(hub, queue, 5))
    assert pushed["tiles"][0]["value"] is None
    assert pushed["tiles"][0]["as_of"] is None


def test_a_datastream_moved_into_a_restricted_dataset_leaves_the_screen(hub, monkeypatch):
    monkeypatch.setattr(live, "REFRESH", 600.0)
    stream = _restricted_later(hub)
    create_dataset(hub, "intern", "restricted")
    queue = _subscribe(hub, "lobby")
    thing = hub.get(f"/v1.1/Datastreams({stream})/Thing", headers=hub.admin).json()["@iot.id"]
    moved = hub.patch(f"/v1.1/Things({thing})", json={"properties": {"dataset": "intern"}})
    assert moved.status_code == 200, moved.text
    assert hub.get("/api/screens/lobby").json()["tiles"][0]["value"] is None
    assert orjson.loads(_next(hub, queue, 5))["tiles"][0]["value"] is None


def test_a_deleted_datastream_empties_its_tile_on_a_connected_screen(hub):
    stream = _restricted_later(hub)
    queue = _subscribe(hub, "lobby")
    assert hub.delete(f"/v1.1/Datastreams({stream})").status_code in (200, 204)
    state = hub.get("/api/screens/lobby")
    assert state.status_code == 200
    assert state.json()["tiles"][0]["value"] is None
    assert orjson.loads(_next(hub, queue, 5))["tiles"][0]["value"] is None
