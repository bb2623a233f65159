"""The hub as a whole: health for monitoring, CORS for browser apps on other origins."""

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityhub.settings import load_settings
from conftest import HubClient


def test_health_reports_the_database(hub):
    response = hub.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


@pytest.fixture
def hub_without_database(tmp_path: Path) -> Iterator[HubClient]:
    """A hub whose database server is gone (nothing listens on its port)."""
    settings = load_settings(
        {"data_dir": tmp_path, "database_url": "postgresql://nobody@127.0.0.1:1/gone"},
        environ={},
    )
    client = HubClient(settings, migrate=False)
    yield client
    client.close()


def test_health_is_503_when_the_database_is_gone(hub_without_database):
    response = hub_without_database.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_browser_apps_on_other_origins_may_read(sqlite_hub):
    origin = {"Origin": "https://app.solingen.example"}
    response = sqlite_hub.get("/v1.1/Things", headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = sqlite_hub.request(
        "OPTIONS",
        "/v1.1/Observations",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_cors_can_be_turned_off(tmp_path: Path, sqlite_template):
    settings = load_settings({"data_dir": tmp_path, "cors_origins": []}, environ={})
    client = HubClient(settings, migrate=True)
    try:
        response = client.get("/v1.1", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in response.headers
    finally:
        client.close()


def test_an_unreachable_database_is_503_not_500(hub_without_database):
    response = hub_without_database.get("/v1.1/Things")
    assert response.status_code == 503
    assert response.json() == {
        "code": 503,
        "type": "error",
        "message": "the database is not available; try again",
    }


def test_requests_without_origin_get_no_cors_headers(sqlite_hub):
    response = sqlite_hub.get("/v1.1/Things")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_what_startup_built_is_kept_out_of_full_garbage_collections(sqlite_hub):
    # Full collections over every module, route and cache paused large responses for ~90 ms.
    assert gc.get_freeze_count() > 10_000
