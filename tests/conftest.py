"""Test fixtures: the real app, in-process, on a real SQLite file and a real PostgreSQL database.

``hub`` is parametrised over both backends. PostgreSQL tests skip with a reason when no server
is reachable, unless ``CITYHUB_REQUIRE_POSTGRES=1`` (as CI sets it) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import psycopg
import pytest
from sqlalchemy import text

from cityhub.app import create_app
from cityhub.settings import Settings, load_settings
from cityhub.store.database import Store
from cityhub.store.schema import metadata

ADMIN_TOKEN = "test-admin-token"
POSTGRES_URL = os.environ.get(
    "CITYHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("CITYHUB_REQUIRE_POSTGRES") == "1"


class HubClient:
    """A synchronous HTTP client for the app, running its lifespan in a background loop."""

    def __init__(self, settings: Settings, migrate: bool = False) -> None:
        if "mqtt_enabled" not in settings.model_fields_set:
            # Most tests need no broker; the MQTT tests turn it on explicitly.
            settings = settings.model_copy(update={"mqtt_enabled": False})
        self.settings = settings
        self.app = create_app(settings, migrate=migrate)
        self._portal_context = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_context.__enter__()
        self._lifespan = self.app.router.lifespan_context(self.app)
        self.portal.call(self._lifespan.__aenter__)
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    @property
    def store(self) -> Store:
        return self.app.state.store

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(partial(self.client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, json: Any = None, auth: bool = True, **kwargs: Any) -> httpx.Response:
        return self._write("POST", url, json, auth, **kwargs)

    def patch(self, url: str, json: Any = None, auth: bool = True, **kwargs: Any) -> httpx.Response:
        return self._write("PATCH", url, json, auth, **kwargs)

    def put(self, url: str, json: Any = None, auth: bool = True, **kwargs: Any) -> httpx.Response:
        return self._write("PUT", url, json, auth, **kwargs)

    def delete(self, url: str, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = {**(self.admin if auth else {}), **kwargs.pop("headers", {})}
        return self.request("DELETE", url, headers=headers, **kwargs)

    def _write(self, method: str, url: str, json: Any, auth: bool, **kwargs: Any) -> httpx.Response:
        headers = {**(self.admin if auth else {}), **kwargs.pop("headers", {})}
        return self.request(method, url, json=json, headers=headers, **kwargs)

    def close(self) -> None:
        self.portal.call(self.client.aclose)
        self.portal.call(self._lifespan.__aexit__, None, None, None)
        self._portal_context.__exit__(None, None, None)


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL server reachable at {POSTGRES_URL} ({exc.__class__.__name__})"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database with the schema, for this test session."""
    problem = _postgres_reachable()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"cityhub_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    store = Store(load_settings({"database_url": url}, environ={}))
    store.migrate()
    store.close()
    yield url
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    store = Store(load_settings({"data_dir": folder}, environ={}))
    store.migrate()
    store.close()
    return folder / "cityhub.sqlite3"


def _empty_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    store = Store(load_settings({"database_url": url}, environ={}))
    with store.write_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of a hub on an empty, migrated database of each backend."""
    overrides: dict[str, Any] = {"data_dir": tmp_path, "admin_token": ADMIN_TOKEN}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_database")
        _empty_postgres(url)
        overrides["database_url"] = url
    else:
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "cityhub.sqlite3")
    return load_settings(overrides, environ={})


@pytest.fixture
def hub(backend_settings: Settings) -> Iterator[HubClient]:
    client = HubClient(backend_settings)
    yield client
    client.close()


@pytest.fixture
def sqlite_hub(tmp_path: Path, sqlite_template: Path) -> Iterator[HubClient]:
    """A hub on SQLite only, for tests about the HTTP face rather than the store."""
    shutil.copy(sqlite_template, tmp_path / "cityhub.sqlite3")
    settings = load_settings({"data_dir": tmp_path, "admin_token": ADMIN_TOKEN}, environ={})
    client = HubClient(settings)
    yield client
    client.close()
