"""Crisis messages: pushed, listed active first, shown on the screens of their group,
withdrawn; expired ones are past."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def screens(hub):
    for slug, group in (("mitte", "innenstadt"), ("ohligs", "ohligs")):
        body = {"title": slug, "group": group, "tiles": [{"type": "qr", "url": "/"}]}
        assert hub.put(f"/api/admin/screens/{slug}", json=body).status_code == 201
    return hub


def _crisis(hub, slug):
    return hub.get(f"/api/screens/{slug}").json()["crisis"]


def test_a_message_reaches_the_screens_of_its_group_until_withdrawn(screens):
    hub = screens
    pushed = hub.post(
        "/api/admin/crisis",
        json={"text": "Hochwasser: Wupperufer meiden", "severity": "critical", "group": "ohligs"},
    )
    assert pushed.status_code == 201, pushed.text
    message = pushed.json()
    assert message["active"] is True
    assert message["group"] == "ohligs"
    assert message["withdrawn"] is None
    assert [m["text"] for m in _crisis(hub, "ohligs")] == ["Hochwasser: Wupperufer meiden"]
    assert _crisis(hub, "mitte") == []

    everyone = hub.post("/api/admin/crisis", json={"text": "Probealarm", "severity": "info"})
    assert everyone.status_code == 201
    assert [m["severity"] for m in _crisis(hub, "ohligs")] == ["critical", "info"]
    assert [m["severity"] for m in _crisis(hub, "mitte")] == ["info"]

    assert hub.delete(f"/api/admin/crisis/{message['id']}").status_code == 204
    assert hub.delete(f"/api/admin/crisis/{message['id']}").status_code == 404
    assert [m["text"] for m in _crisis(hub, "ohligs")] == ["Probealarm"]
    listed = hub.get("/api/admin/crisis", headers=hub.admin).json()
    assert [(m["id"], m["active"]) for m in listed] == [
        (everyone.json()["id"], True),
        (message["id"], False),
    ]
    assert listed[1]["withdrawn"] is not None


def test_a_message_expires_by_itself(screens):
    hub = screens
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    pushed = hub.post(
        "/api/admin/crisis", json={"text": "Kurz", "severity": "warning", "expires": soon}
    )
    assert pushed.status_code == 201
    assert pushed.json()["expires"] is not None
    assert len(_crisis(hub, "mitte")) == 1
    time.sleep(2)
    assert _crisis(hub, "mitte") == []
    assert hub.get("/api/admin/crisis", headers=hub.admin).json()[0]["active"] is False


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"severity": "info"}, "text is required"),
        ({"text": "x", "severity": "panic"}, "severity must be"),
        ({"text": "x", "severity": "info", "expires": "tomorrow"}, "date-time"),
        ({"text": "x", "severity": "info", "expires": "2001-01-01T00:00:00Z"}, "past"),
        ({"text": "x", "severity": "info", "group": ""}, "group must be"),
        ({"text": "x" * 600, "severity": "info"}, "longer than"),
        ({"text": "x", "severity": "info", "colour": "red"}, "unknown field"),
    ],
)
def test_a_wrong_message_is_a_400(hub, body, words):
    response = hub.post("/api/admin/crisis", json=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["message"]


def test_a_publisher_token_may_not_push_a_message(hub):
    token = hub.post("/api/admin/tokens", json={"role": "publisher", "name": "p"}).json()["token"]
    response = hub.post(
        "/api/admin/crisis",
        json={"text": "x", "severity": "info"},
        auth=False,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("message_id", [str(2**31), str(2**63), str(10**30), "0", "-1"])
def test_withdrawing_an_id_out_of_range_is_a_400(hub, message_id):
    response = hub.delete(f"/api/admin/crisis/{message_id}")
    assert response.status_code == 400, response.text
    assert "message_id" in response.json()["message"]


def test_withdrawing_twice_or_an_unknown_message_is_a_404(hub):
    pushed = hub.post("/api/admin/crisis", json={"text": "x", "severity": "info"}).json()
    assert hub.delete(f"/api/admin/crisis/{pushed['id']}").status_code == 204
    again = hub.delete(f"/api/admin/crisis/{pushed['id']}")
    assert again.status_code == 404
    assert "withdrawn already" in again.json()["message"]
    assert hub.delete(f"/api/admin/crisis/{2**31 - 1}").status_code == 404


def test_a_message_for_a_group_given_with_spaces_reaches_its_screens(screens):
    hub = screens
    body = {"text": "Glätte", "severity": "warning", "group": "  ohligs "}
    pushed = hub.post("/api/admin/crisis", json=body)
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["group"] == "ohligs"
    assert [m["text"] for m in _crisis(hub, "ohligs")] == ["Glätte"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"text": "Sturm\u0000"}, "control characters"),
        ({"group": "g\u0000"}, "group must be"),
        ({"group": "g" * 201}, "group must be"),
    ],
)
def test_a_message_with_a_control_character_or_a_long_group_is_a_400(hub, change, words):
    response = hub.post("/api/admin/crisis", json={"text": "x", "severity": "info"} | change)
    assert response.status_code == 400, response.text
    assert words in response.json()["message"]
    assert hub.get("/api/admin/crisis", headers=hub.admin).json() == []
