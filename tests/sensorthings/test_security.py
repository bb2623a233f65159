"""Who may write: reads are public, writes need a token of role publisher or admin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cityhub.auth import create_token, hash_token, list_tokens, revoke_token
from cityhub.settings import load_settings
from cityhub.store import schema
from conftest import HubClient

V = "/v1.1"
THING = {"name": "Weather station", "description": "On the town hall roof"}


def new_token(hub: HubClient, role: str, name: str | None = None) -> str:
    return hub.store.write_blocking(lambda c: create_token(c, role, name or f"{role} token"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def thing_id(hub: HubClient) -> int:
    response = hub.post(f"{V}/Things", THING)
    assert response.status_code == 201, response.text
    return response.json()["@iot.id"]


def location_id(hub: HubClient) -> int:
    body = {
        "name": "Town hall",
        "description": "The town hall",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [7.08, 51.17]},
    }
    response = hub.post(f"{V}/Locations", body)
    assert response.status_code == 201, response.text
    return response.json()["@iot.id"]


def writes(thing: int, location: int) -> list[tuple[str, str, Any]]:
    """One request of each writing kind, as (method, path, body)."""
    return [
        ("POST", f"{V}/Things", THING),
        ("POST", f"{V}/Things({thing})/Locations/$ref", {"@iot.id": location}),
        ("PATCH", f"{V}/Things({thing})", {"name": "Changed"}),
        ("PUT", f"{V}/Things({thing})", {"name": "Changed", "description": "Changed"}),
        ("DELETE", f"{V}/Things({thing})", None),
        ("DELETE", f"{V}/Things({thing})/Locations({location})/$ref", None),
        # Authorisation comes first: no answer reveals whether an entity exists.
        ("DELETE", f"{V}/Things(999)", None),
        ("PATCH", f"{V}/Sensors(999)", {"name": "x"}),
    ]


def send(hub: HubClient, method: str, path: str, body: Any, headers: dict[str, str]):
    if body is None:
        return hub.request(method, path, headers=headers)
    return hub.request(method, path, json=body, headers=headers)


def assert_denied(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status
    assert body["type"] == "error"
    assert body["message"]
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.fixture
def linked(hub: HubClient) -> tuple[int, int]:
    """A Thing linked to a Location, and the state a denied write must leave untouched."""
    thing = thing_id(hub)
    location = location_id(hub)
    response = hub.post(f"{V}/Things({thing})/Locations/$ref", {"@iot.id": location})
    assert response.status_code in (200, 201, 204), response.text
    return thing, location


def _snapshot(hub: HubClient, thing: int) -> tuple[Any, ...]:
    return (
        hub.get(f"{V}/Things").json()["value"],
        hub.get(f"{V}/Things({thing})/Locations").json()["value"],
    )


def test_reads_are_public(hub, linked):
    thing, _ = linked
    for path in (V, f"{V}/Things", f"{V}/Things({thing})", f"{V}/Things({thing})/Locations"):
        response = hub.get(path)
        assert response.status_code == 200, path
    reader = new_token(hub, "reader")
    assert hub.get(f"{V}/Things({thing})", headers=bearer(reader)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer chub_not-a-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "test-admin-token"},
    ],
    ids=["none", "unknown", "empty", "basic", "no-scheme"],
)
def test_writes_without_a_valid_token_are_401(hub, linked, headers):
    thing, location = linked
    before = _snapshot(hub, thing)
    for method, path, body in writes(thing, location):
        assert_denied(send(hub, method, path, body, headers), 401)
    assert _snapshot(hub, thing) == before


def test_writes_with_a_reader_token_are_403(hub, linked):
    thing, location = linked
    headers = bearer(new_token(hub, "reader", "dashboard"))
    before = _snapshot(hub, thing)
    for method, path, body in writes(thing, location):
        response = send(hub, method, path, body, headers)
        assert_denied(response, 403)
        assert "reader" in response.json()["message"]
    assert _snapshot(hub, thing) == before


def test_a_publisher_token_may_write(hub, linked):
    thing, location = linked
    headers = bearer(new_token(hub, "publisher", "sensor gateway"))
    statuses = [send(hub, m, p, b, headers).status_code for m, p, b in writes(thing, location)]
    # The two requests on entities that do not exist pass authorisation and find nothing.
    assert statuses[:-2] == [201, 204, 200, 200, 200, 404]
    assert statuses[-2:] == [404, 404]
    assert [t["name"] for t in hub.get(f"{V}/Things").json()["value"]] == [THING["name"]]


def test_tokens_are_stored_hashed(hub):
    token = new_token(hub, "publisher", "hashed")
    rows = hub.store.read_blocking(
        lambda c: [dict(r) for r in c.execute(select(schema.api_tokens)).mappings()]
    )
    [row] = rows
    assert row["role"] == "publisher"
    assert row["token_hash"] == hash_token(token)
    assert all(token not in str(value) for value in row.values())
    listed = hub.store.read_blocking(list_tokens)
    assert all("token_hash" not in entry for entry in listed)


def test_unknown_role_is_refused(hub):
    with pytest.raises(ValueError, match="role"):
        new_token(hub, "superuser")


@pytest.fixture
def uncached_hub(tmp_path: Path) -> Iterator[HubClient]:
    """A SQLite hub that checks every token against the database on every request."""
    settings = load_settings({"data_dir": tmp_path, "token_cache_seconds": 0}, environ={})
    client = HubClient(settings, migrate=True)
    yield client
    client.close()


def test_a_revoked_token_is_rejected(uncached_hub):
    hub = uncached_hub
    token = new_token(hub, "publisher", "to revoke")
    headers = bearer(token)
    response = hub.post(f"{V}/Things", THING, auth=False, headers=headers)
    assert response.status_code == 201, response.text
    [entry] = hub.store.read_blocking(list_tokens)
    assert hub.store.write_blocking(lambda c: revoke_token(c, entry["id"])) is True
    response = hub.post(f"{V}/Things", THING, auth=False, headers=headers)
    assert_denied(response, 401)
    assert len(hub.get(f"{V}/Things").json()["value"]) == 1
    # Without an admin token configured, nothing else can write either.
    assert_denied(hub.post(f"{V}/Things", THING, auth=False), 401)
