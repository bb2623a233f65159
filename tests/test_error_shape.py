"""Every error the hub answers has one JSON shape: ``{"code", "type": "error", "message"}``.

Clients (and our own portal) rely on it; this test locks it for each status the SensorThings
face produces and for paths no face serves.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest

from cityhub.auth import create_token
from conftest import HubClient

V = "/v1.1"
THING = {"name": "Weather station", "description": "On the town hall roof"}


def assert_error_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    body = response.json()
    assert list(body) == ["code", "type", "message"]
    assert body["code"] == status
    assert body["type"] == "error"
    assert isinstance(body["message"], str)
    assert body["message"].strip()
    return body


def _reader(hub: HubClient) -> dict[str, str]:
    token = hub.store.write_blocking(lambda c: create_token(c, "reader", "reader"))
    return {"Authorization": f"Bearer {token}"}


CASES: list[tuple[str, int, str, str, dict[str, Any]]] = [
    ("bad query", 400, "GET", f"{V}/Things?$top=-1", {}),
    ("bad filter", 400, "GET", f"{V}/Things?$filter=name eq", {}),
    ("bad body", 400, "POST", f"{V}/Things", {"json": {"name": 1}}),
    ("bad json", 400, "POST", f"{V}/Things", {"content": b"{", "json_type": True}),
    ("no token", 401, "POST", f"{V}/Things", {"json": THING, "anonymous": True}),
    ("reader token", 403, "POST", f"{V}/Things", {"json": THING, "reader": True}),
    ("unknown entity", 404, "GET", f"{V}/Things(42)", {}),
    ("unknown entity set", 404, "GET", f"{V}/Gadgets", {}),
    ("unknown property", 404, "GET", f"{V}/Things(1)/colour", {}),
    ("unknown delete", 404, "DELETE", f"{V}/Things(42)", {}),
    ("unknown top-level path", 404, "GET", "/no/such/page", {}),
    ("unknown api path", 404, "GET", "/api/nothing-here", {}),
    ("post to an entity", 405, "POST", f"{V}/Things(1)", {"json": THING}),
    ("delete a collection", 405, "DELETE", f"{V}/Things", {}),
    ("put on the service root", 405, "PUT", V, {"json": THING}),
    ("not json", 415, "POST", f"{V}/Things", {"content": b"name=x", "form": True}),
    ("unsupported option", 501, "GET", f"{V}/Things?$apply=groupby((name))", {}),
]


@pytest.mark.parametrize(
    ("status", "method", "url", "how"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_error_bodies_have_one_shape(sqlite_hub, status, method, url, how):
    hub = sqlite_hub
    assert hub.post(f"{V}/Things", THING).status_code == 201
    headers = {} if how.get("anonymous") else dict(hub.admin)
    if how.get("reader"):
        headers = _reader(hub)
    kwargs: dict[str, Any] = {"headers": headers}
    if "json" in how:
        kwargs["json"] = how["json"]
    if "content" in how:
        kwargs["content"] = how["content"]
        headers["Content-Type"] = (
            "application/x-www-form-urlencoded" if how.get("form") else "application/json"
        )
    response = hub.request(method, url, **kwargs)
    assert_error_shape(response, status)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_internal_errors_say_nothing_about_the_cause(sqlite_hub, monkeypatch):
    from cityhub.sensorthings import writes

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret detail from the database")

    monkeypatch.setattr(writes, "create", explode)
    # Starlette re-raises after answering (for servers to log); this client takes the answer.
    transport = httpx.ASGITransport(app=sqlite_hub.app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    request = partial(client.post, f"{V}/Things", json=THING, headers=sqlite_hub.admin)
    response = sqlite_hub.portal.call(request)
    sqlite_hub.portal.call(client.aclose)
    body = assert_error_shape(response, 500)
    assert "secret" not in body["message"]
