"""Connectors created, changed and deleted through the admin API, beside those of
cityhub.toml, on both backends: they run, are scheduled and are seen by other processes
without a restart."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from tests.connectors.helpers import features_of

from cityhub.cli import main
from cityhub.connectors.service import ConnectorService
from cityhub.settings import load_settings
from cityhub.store import managed, schema
from cityhub.store.database import Store
from conftest import ADMIN_TOKEN, HubClient

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _pegel(fixture_server, **fields):
    return {"type": "pegelonline", "url": fixture_server.url("pegelonline/stations.json"), **fields}


@pytest.fixture
def file_hub(backend_settings, fixture_server):
    """A hub with one connector in its configuration file."""
    update = {"connectors": {"filed": _pegel(fixture_server)}, "connectors_in_serve": False}
    settings = type(backend_settings).model_validate(backend_settings.model_dump() | update)
    client = HubClient(settings)
    yield client
    client.close()


def test_a_connector_created_through_the_api_runs_changes_and_goes(hub, fixture_server):
    anonymous = hub.post("/api/admin/connectors/pegel", _pegel(fixture_server), auth=False)
    assert anonymous.status_code == 401
    created = hub.post("/api/admin/connectors/pegel", _pegel(fixture_server))
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/admin/connectors/pegel"
    assert created.json() == {"name": "pegel", "source": "api", **_pegel(fixture_server)}
    listed = hub.get("/api/admin/connectors", headers=ADMIN).json()
    assert [(c["name"], c["source"]) for c in listed] == [("pegel", "api")]

    ran = hub.post("/api/admin/connectors/pegel/run")
    assert ran.status_code == 200, ran.text
    assert ran.json()["status"] == "ok"
    assert ran.json()["summary"]["places_created"] == 3
    assert len(features_of(hub, "pegel")) == 3

    again = hub.post("/api/admin/connectors/pegel", _pegel(fixture_server))
    assert again.status_code == 409
    assert "PUT" in again.json()["message"]

    changed = hub.put("/api/admin/connectors/pegel", _pegel(fixture_server, dataset="gauges"))
    assert changed.status_code == 200, changed.text
    assert changed.json()["dataset"] == "gauges"
    assert hub.post("/api/admin/connectors/pegel/run").json()["status"] == "ok"
    assert len(features_of(hub, "gauges")) == 3
    shown = hub.get("/api/admin/connectors/pegel", headers=ADMIN).json()
    assert (shown["source"], shown["dataset"], len(shown["runs"])) == ("api", "gauges", 2)
    assert shown["configuration"] == changed.json()

    assert hub.delete("/api/admin/connectors/pegel").status_code == 204
    assert hub.get("/api/admin/connectors/pegel", headers=ADMIN).status_code == 404
    assert hub.post("/api/admin/connectors/pegel/run").status_code == 404
    assert hub.get("/api/admin/connectors", headers=ADMIN).json() == []
    gone = hub.delete("/api/admin/connectors/pegel")
    assert gone.status_code == 404
    assert "no connector 'pegel'" in gone.json()["message"]
    missing = hub.put("/api/admin/connectors/pegel", _pegel(fixture_server))
    assert missing.status_code == 404
    assert "POST" in missing.json()["message"]


def test_the_server_schedules_a_connector_created_through_the_api(hub, fixture_server):
    created = hub.post("/api/admin/connectors/pegel", _pegel(fixture_server, every="1h"))
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(features_of(hub, "pegel")) < 3:
        time.sleep(0.2)
    assert len(features_of(hub, "pegel")) == 3
    runs = hub.get("/api/admin/connectors/pegel/runs", headers=ADMIN).json()
    assert [run["trigger"] for run in runs] == ["schedule"]
    state = hub.get("/api/admin/connectors/pegel", headers=ADMIN).json()
    assert state["schedule"] == "every 1h"
    assert state["next_due"] is not None


def test_another_process_sees_api_changes_at_its_next_look(hub, fixture_server):
    worker = ConnectorService(hub.store, hub.settings, holder="worker-2")
    try:
        assert hub.portal.call(worker.status) == {}
        hub.post("/api/admin/connectors/pegel", _pegel(fixture_server))
        assert hub.portal.call(worker.run_now, "pegel").status == "ok"
        hub.put("/api/admin/connectors/pegel", _pegel(fixture_server, enabled=False))
        assert hub.portal.call(worker.status)["pegel"]["enabled"] is False
        hub.delete("/api/admin/connectors/pegel")
        assert hub.portal.call(worker.status) == {}
    finally:
        hub.portal.call(worker.aclose)


def test_connectors_of_the_file_are_listed_as_such_and_read_only(file_hub, fixture_server):
    hub = file_hub
    listed = hub.get("/api/admin/connectors", headers=ADMIN).json()
    assert [(c["name"], c["source"]) for c in listed] == [("filed", "file")]
    for method in ("POST", "PUT"):
        refused = hub.request(method, "/api/admin/connectors/filed", json=_pegel(fixture_server),
                              headers=ADMIN)  # fmt: skip
        assert refused.status_code == 409, refused.text
        assert "cityhub.toml" in refused.json()["message"]
    refused = hub.delete("/api/admin/connectors/filed")
    assert refused.status_code == 409
    assert "edit the file" in refused.json()["message"]
    assert hub.post("/api/admin/connectors/filed/run").json()["status"] == "ok"
    hub.post("/api/admin/connectors/extra", _pegel(fixture_server))
    listed = hub.get("/api/admin/connectors", headers=ADMIN).json()
    assert [(c["name"], c["source"]) for c in listed] == [("extra", "api"), ("filed", "file")]


@pytest.mark.parametrize(
    ("name", "body", "named"),
    [
        ("pegel", {"type": "pegelonline", "every": "soon"}, "every: 'soon' is not a duration"),
        ("pegel", {"type": "pegelonline", "every": "5m", "cron": "* * * * *"}, "not both"),
        ("pegel", {"type": "pegelonline", "cron": "often"}, "cron: 'often' is not a cron"),
        ("pegel", {"url": "https://example.org"}, "type: Field required"),
        ("pegel", {"type": "no-such-thing"}, "type: unknown connector type 'no-such-thing'"),
        ("pegel", {"type": "pegelonline", "enabled": "sometimes"}, "enabled:"),
        ("pegel", ["pegelonline"], "JSON object"),
        ("pegel", None, "JSON object"),
        ("Pegel Nord", {"type": "pegelonline"}, "name: connector name 'Pegel Nord'"),
        ("pegel", {"type": "file"}, "connector 'pegel': give the source"),
        (
            "pegel",
            {"type": "pegelonline", "url": "https://me:secret@example.org/x"},
            "url: the URL holds a password",
        ),
    ],
)
def test_bad_bodies_are_400_naming_the_field(hub, name, body, named):
    for method in ("POST", "PUT"):
        answer = hub.request(method, f"/api/admin/connectors/{name}", json=body, headers=ADMIN)
        assert answer.status_code == 400, answer.text
        assert named in answer.json()["message"]
    assert hub.get("/api/admin/connectors", headers=ADMIN).json() == []


def test_a_body_that_is_no_json_is_400(hub):
    answer = hub.request(
        "POST", "/api/admin/connectors/pegel", content=b"type = 'pegelonline'",
        headers={**ADMIN, "Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 400


def test_connector_list_shows_connectors_created_through_the_api(tmp_path, fixture_server):
    url = fixture_server.url("pegelonline/stations.json")
    config = f'[connectors.filed]\ntype = "pegelonline"\nurl = "{url}"\n'
    (tmp_path / "cityhub.toml").write_text(config)
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    store.migrate()
    document = _pegel(fixture_server, every="5m")
    store.write_blocking(lambda c: managed.add(c, schema.connector_configs, "pegel", document))
    store.close()
    runner = CliRunner()
    listed = runner.invoke(main, ["connector", "list", "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[0]: line for line in listed.output.splitlines()}
    assert lines["filed"].endswith("(cityhub.toml)")
    assert "every 5m" in lines["pegel"]
    assert lines["pegel"].endswith("(admin API)")
    ran = runner.invoke(main, ["connector", "run", "pegel", "--data-dir", str(tmp_path)])
    assert ran.exit_code == 0, ran.output
    assert "pegel: " in ran.output
    status = runner.invoke(main, ["connector", "status", "--data-dir", str(tmp_path)])
    assert "pegel: last run" in status.output
    assert "filed: never run" in status.output
