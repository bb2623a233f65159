"""Helpers for the LoRaWAN ingest tests: recorded messages, hubs with integrations."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from cityhub.lorawan.config import SECRET_HEADER, LorawanIntegration
from cityhub.settings import Settings
from conftest import HubClient

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lorawan"
V = "/v1.1"
SECRET_ENV = "CITYHUB_TEST_LORAWAN_SECRET"
SECRET = "webhook-secret-for-tests"
TTS_EUI = "70B3D57ED0061A2C"
CS_EUI = "A8404185B1C2D3E4"
CS3_EUI = "0004A30B001C7E5D"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def raw(data: Any) -> bytes:
    return json.dumps(data).encode()


def integration(name: str, network: str, **options: Any) -> LorawanIntegration:
    return LorawanIntegration(name=name, network=network, secret_env=SECRET_ENV, **options)


def lorawan_hub(settings: Settings, *integrations: LorawanIntegration) -> HubClient:
    return HubClient(settings.model_copy(update={"lorawan": list(integrations)}))


def post_webhook(
    hub: HubClient, name: str, body: Any, event: str | None = None, secret: str | None = SECRET
) -> Any:
    content = body if isinstance(body, bytes) else raw(body)
    headers = {} if secret is None else {SECRET_HEADER: secret}
    params = {"event": event} if event else None
    return hub.request(
        "POST", f"/ingest/lorawan/{name}", content=content, headers=headers, params=params
    )


def add_device(hub: HubClient, **fields: Any) -> dict[str, Any]:
    response = hub.post("/api/admin/lorawan/devices", fields)
    assert response.status_code == 201, response.text
    return response.json()


def observations(hub: HubClient, datastream_id: int, **headers: Any) -> list[dict[str, Any]]:
    response = hub.get(
        f"{V}/Datastreams({datastream_id})/Observations",
        params={"$orderby": "phenomenonTime"},
        headers=headers or None,
    )
    assert response.status_code == 200, response.text
    return response.json()["value"]


def dead_letters(hub: HubClient) -> list[dict[str, Any]]:
    response = hub.get("/api/admin/lorawan/dead-letters", headers=hub.admin)
    assert response.status_code == 200, response.text
    return response.json()


def tts_uplink(
    *,
    f_cnt: int = 4711,
    session: str = "AYsT6nJq0zL2mE4vV8c1Pg==",
    correlation: str = "01HX7Q2M3M0C4D6E8F1G3H5J7K",
    decoded: dict[str, Any] | None = None,
    received_at: str = "2026-11-14T09:31:07.279164Z",
) -> dict[str, Any]:
    """The recorded TTS uplink with another frame counter, session, correlation id…"""
    body = copy.deepcopy(fixture("tts_uplink_mqtt"))
    up = body["uplink_message"]
    up["f_cnt"], up["session_key_id"], up["received_at"] = f_cnt, session, received_at
    body["correlation_ids"][1] = f"ns:uplink:{correlation}"
    if decoded is not None:
        up["decoded_payload"] = decoded
    return body
