"""Fixtures of the MQTT tests: a hub on each backend with each broker, and a client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cityhub.settings import Settings
from conftest import HubClient

from .mqtt_helpers import TestClient, client_for, mqtt_settings, require_mosquitto, start_hub


@pytest.fixture(params=["embedded", "mosquitto"])
def broker(request: pytest.FixtureRequest) -> str:
    if request.param == "mosquitto":
        require_mosquitto()
    return request.param


@pytest.fixture
def mqtt_hub(backend_settings: Settings, broker: str) -> Iterator[HubClient]:
    hub = start_hub(mqtt_settings(backend_settings, broker))
    yield hub
    hub.close()


@pytest.fixture
def mqtt_client(mqtt_hub: HubClient) -> Iterator[TestClient]:
    client = client_for(mqtt_hub)
    yield client
    client.close()
