"""Connector tests: recorded payloads of each source replayed through httpx.MockTransport,
written into the real store of the ``hub`` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.connectors.helpers import Connectors, FixtureServer


@pytest.fixture
def connectors(hub) -> Iterator[Callable[..., Connectors]]:
    made: list[Connectors] = []

    def make(configs: dict[str, dict[str, Any]], live: bool = False, **settings: Any) -> Connectors:
        made.append(Connectors(hub, configs, live, **settings))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def fixture_server() -> Iterator[FixtureServer]:
    server = FixtureServer()
    yield server
    server.close()
