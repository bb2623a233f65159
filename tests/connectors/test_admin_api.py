"""The connectors part of the admin API, and scheduling inside the server, on both backends."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from tests.connectors.helpers import features_of

from cityhub.store import schema
from conftest import ADMIN_TOKEN, HubClient

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _hub(backend_settings, fixture_server, **settings):
    config = {
        "type": "pegelonline",
        "url": fixture_server.url("pegelonline/stations.json"),
        "every": "15m",
    }
    update = {"connectors": {"pegel": config}, **settings}
    merged = backend_settings.model_dump() | update
    return HubClient(type(backend_settings).model_validate(merged))


@pytest.fixture
def hub_with_connector(backend_settings, fixture_server):
    client = _hub(backend_settings, fixture_server, connectors_in_serve=False, http_retries=0)
    yield client
    client.close()


def test_connectors_are_listed_run_and_shown_with_their_runs(hub_with_connector):
    hub = hub_with_connector
    assert hub.get("/api/admin/connectors").status_code == 401
    listed = hub.get("/api/admin/connectors", headers=ADMIN).json()
    assert [(c["name"], c["type"], c["schedule"]) for c in listed] == [
        ("pegel", "pegelonline", "every 15m")
    ]
    assert listed[0]["last_run"] is None

    ran = hub.post("/api/admin/connectors/pegel/run")
    assert ran.status_code == 200, ran.text
    assert ran.json()["status"] == "ok"
    assert ran.json()["summary"]["places_created"] == 3

    shown = hub.get("/api/admin/connectors/pegel", headers=ADMIN).json()
    assert shown["last_run"]["status"] == "ok"
    assert shown["last_run"]["trigger"] == "manual"
    assert len(shown["runs"]) == 1
    assert len(features_of(hub, "pegel")) == 3


def test_a_run_in_the_back_answers_202_at_once(hub_with_connector):
    hub = hub_with_connector
    started = hub.post("/api/admin/connectors/pegel/run?wait=false")
    assert started.status_code == 202
    assert started.json() == {"name": "pegel", "status": "started"}
    deadline = time.monotonic() + 20
    runs: list = []
    while time.monotonic() < deadline and not (runs and runs[0]["status"] == "ok"):
        time.sleep(0.1)
        runs = hub.get("/api/admin/connectors/pegel/runs", headers=ADMIN).json()
    assert runs[0]["status"] == "ok"
    assert runs[0]["summary"]["places_created"] == 3


def test_a_failed_run_shows_its_error(hub_with_connector, fixture_server):
    hub = hub_with_connector
    fixture_server.override("pegelonline/stations.json", 502, b"Bad Gateway", "text/plain")
    failed = hub.post("/api/admin/connectors/pegel/run").json()
    assert failed["status"] == "failed"
    runs = hub.get("/api/admin/connectors/pegel/runs", headers=ADMIN).json()
    assert runs[0]["status"] == "failed"
    assert "answered 502" in runs[0]["error"]


def test_unknown_and_busy_connectors_are_4xx(hub_with_connector):
    hub = hub_with_connector
    missing = hub.post("/api/admin/connectors/wetter/run")
    assert missing.status_code == 404
    assert "no connector 'wetter'" in missing.json()["message"]
    soon = datetime.now(UTC) + timedelta(minutes=5)
    leases = schema.connector_leases
    hub.store.write_blocking(
        lambda c: c.execute(
            leases.insert().values(name="pegel", holder="worker-7", expires_at=soon, next_due=soon)
        )
    )
    busy = hub.post("/api/admin/connectors/pegel/run")
    assert busy.status_code == 409
    assert "running in worker-7" in busy.json()["message"]


def test_the_server_runs_due_connectors_itself(backend_settings, fixture_server):
    hub = _hub(backend_settings, fixture_server)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(features_of(hub, "pegel")) < 3:
            time.sleep(0.1)
        assert len(features_of(hub, "pegel")) == 3
        runs = hub.get("/api/admin/connectors/pegel/runs", headers=ADMIN).json()
        assert runs[0]["trigger"] == "schedule"
    finally:
        hub.close()


def test_no_scheduling_in_the_server_when_workers_run_connectors(backend_settings, fixture_server):
    hub = _hub(backend_settings, fixture_server, connectors_in_serve=False)
    try:
        time.sleep(0.5)
        assert hub.get("/api/admin/connectors/pegel/runs", headers=ADMIN).json() == []
    finally:
        hub.close()
