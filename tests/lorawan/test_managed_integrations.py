"""LoRaWAN integrations created, changed and deleted through the admin API, beside those of
cityhub.toml, on both backends: their webhooks and MQTT subscribers follow each change
without a restart."""

from __future__ import annotations

import uuid

import orjson
import paho.mqtt.client as paho
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from cityhub.cli import main
from cityhub.lorawan.service import LorawanService
from cityhub.settings import load_settings
from cityhub.store import managed, schema
from cityhub.store.database import Store
from conftest import HubClient
from sensorthings.mqtt_helpers import MOSQUITTO, require_mosquitto, wait_for

from .helpers import (
    SECRET,
    SECRET_ENV,
    TTS_EUI,
    add_device,
    fixture,
    integration,
    lorawan_hub,
    observations,
    post_webhook,
)

URL = "/api/admin/lorawan/integrations"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)


def _listed(hub) -> list[dict]:
    answer = hub.get(URL, headers=hub.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _temperature_device(hub, **extra) -> dict:
    fields = {"temperature": {"unit_symbol": "°C"}}
    return add_device(hub, dev_eui=TTS_EUI.lower(), name="air-07", fields=fields, **extra)


def test_an_integration_created_through_the_api_takes_webhooks_at_once(hub, secret):
    assert post_webhook(hub, "ttn-api", fixture("tts_uplink_mqtt")).status_code == 404
    assert hub.post(f"{URL}/ttn-api", {"network": "ttn"}, auth=False).status_code == 401
    created = hub.post(f"{URL}/ttn-api", {"network": "ttn", "secret_env": SECRET_ENV})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{URL}/ttn-api"
    assert created.json()["source"] == "api"
    assert created.json()["webhook"] == "/ingest/lorawan/ttn-api"
    assert [(e["name"], e["source"]) for e in _listed(hub)] == [("ttn-api", "api")]

    device = _temperature_device(hub, integration="ttn-api")
    stored = post_webhook(hub, "ttn-api", fixture("tts_uplink_mqtt"))
    assert stored.status_code == 200, stored.text
    assert stored.json()["status"] == "stored"
    assert [o["result"] for o in observations(hub, device["mapping"]["temperature"])] == [25.18]
    wrong = post_webhook(hub, "ttn-api", fixture("tts_uplink_mqtt"), secret="guess")
    assert wrong.status_code == 401

    again = hub.post(f"{URL}/ttn-api", {"network": "ttn"})
    assert again.status_code == 409
    changed = hub.put(f"{URL}/ttn-api", {"network": "ttn", "dataset": "umwelt"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["webhook"], changed.json()["dataset"]) == (None, "umwelt")
    assert post_webhook(hub, "ttn-api", fixture("tts_uplink_mqtt")).status_code == 404
    assert hub.get(f"{URL}/ttn-api", headers=hub.admin).json()["dataset"] == "umwelt"

    assert hub.delete(f"{URL}/ttn-api").status_code == 204
    assert _listed(hub) == []
    assert hub.get(f"{URL}/ttn-api", headers=hub.admin).status_code == 404
    assert hub.delete(f"{URL}/ttn-api").status_code == 404
    missing = hub.put(f"{URL}/ttn-api", {"network": "ttn"})
    assert missing.status_code == 404
    assert "POST" in missing.json()["message"]


def test_another_process_sees_an_integration_created_through_the_api(hub):
    elsewhere = LorawanService(hub.store, hub.settings)
    elsewhere.reload()
    assert elsewhere.integrations() == []
    hub.post(f"{URL}/cs-api", {"network": "chirpstack", "secret_env": SECRET_ENV})
    elsewhere.reload()
    assert [(e["name"], e["source"]) for e in elsewhere.integrations()] == [("cs-api", "api")]
    assert "cs-api" in elsewhere.core.integrations
    hub.delete(f"{URL}/cs-api")
    elsewhere.reload()
    assert elsewhere.core.integrations == {}


def test_integrations_of_the_file_are_listed_as_such_and_read_only(backend_settings, secret):
    hub = lorawan_hub(backend_settings, integration("ttn-city", "ttn"))
    try:
        hub.post(f"{URL}/cs-api", {"network": "chirpstack"})
        assert [(e["name"], e["source"]) for e in _listed(hub)] == [
            ("ttn-city", "file"),
            ("cs-api", "api"),
        ]
        for method in ("POST", "PUT"):
            refused = hub.request(
                method, f"{URL}/ttn-city", json={"network": "ttn"}, headers=hub.admin
            )
            assert refused.status_code == 409, refused.text
            assert "cityhub.toml" in refused.json()["message"]
        assert hub.delete(f"{URL}/ttn-city").status_code == 409
        assert post_webhook(hub, "ttn-city", fixture("tts_uplink_mqtt")).status_code == 202
    finally:
        hub.close()


@pytest.mark.parametrize(
    ("name", "body", "named"),
    [
        ("ttn-api", {"network": "lora"}, "network:"),
        ("ttn-api", {}, "network: Field required"),
        ("ttn-api", {"network": "ttn", "secret": "plain"}, "secret: Extra inputs"),
        ("ttn-api", {"network": "ttn", "qos": 3}, "qos:"),
        ("ttn-api", {"network": "ttn", "broker_url": "http://nas:1883"}, "broker_url 'http://nas"),
        (
            "ttn-api",
            {"network": "ttn", "broker_url": "mqtts://app:NNSXS.KEY@eu1.example.org:8883"},
            "broker_url: the URL holds a password",
        ),
        ("ttn-api", {"network": "ttn", "name": "other"}, "name: the body names 'other'"),
        ("TTN API", {"network": "ttn"}, "name: use lower-case letters"),
        ("ttn-api", ["ttn"], "JSON object"),
        ("ttn-api", None, "JSON object"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(hub, name, body, named):
    for method in ("POST", "PUT"):
        answer = hub.request(method, f"{URL}/{name}", json=body, headers=hub.admin)
        assert answer.status_code == 400, answer.text
        assert named in answer.json()["message"]
    assert _listed(hub) == []


def test_an_integration_created_through_the_api_subscribes_and_unsubscribes(hub, secret):
    require_mosquitto()

    tag = uuid.uuid4().hex[:8]
    app = f"air-{tag}"
    body = {
        "network": "ttn",
        "broker_url": f"mqtt://{MOSQUITTO[0]}:{MOSQUITTO[1]}",
        "topics": [f"v3/{app}@ttn/devices/+/up"],
        "client_id": f"test-lorawan-api-{tag}",
    }
    device = _temperature_device(hub)
    assert hub.post(f"{URL}/ttn-mq", body).status_code == 201

    def subscribed() -> bool:
        return any(e.get("subscriber", {}).get("subscribed") for e in _listed(hub))

    wait_for(subscribed, "the subscription of the new integration")
    publisher = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{tag}")
    publisher.connect(*MOSQUITTO)
    publisher.loop_start()
    try:
        uplink = fixture("tts_uplink_mqtt")
        uplink["end_device_ids"]["application_ids"]["application_id"] = app
        topic = f"v3/{app}@ttn/devices/air-quality-07/up"
        info = publisher.publish(topic, orjson.dumps(uplink), qos=1)
        info.wait_for_publish(10)
        stream = device["mapping"]["temperature"]
        found = wait_for(lambda: observations(hub, stream), "the uplink's observation")
        assert [o["result"] for o in found] == [25.18]

        assert hub.delete(f"{URL}/ttn-mq").status_code == 204
        assert _listed(hub) == []
        assert hub.app.state.lorawan.subscribers == {}
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        cleaner = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=body["client_id"], clean_session=True
        )
        cleaner.connect(*MOSQUITTO)
        cleaner.disconnect()


def test_another_hub_on_the_same_database_picks_up_a_new_integration(
    backend_settings, secret, monkeypatch
):
    monkeypatch.setattr("cityhub.lorawan.service.RELOAD_SECONDS", 0.2)
    first, second = HubClient(backend_settings), HubClient(backend_settings)
    try:
        assert post_webhook(second, "ttn-api", fixture("tts_uplink_mqtt")).status_code == 404
        created = first.post(f"{URL}/ttn-api", {"network": "ttn", "secret_env": SECRET_ENV})
        assert created.status_code == 201, created.text
        answer = wait_for(
            lambda: post_webhook(second, "ttn-api", fixture("tts_uplink_mqtt")).status_code != 404,
            "the other hub to take webhooks of the new integration",
        )
        assert answer is True
        # No device is registered: the uplink is kept as a dead letter, answered 202.
        assert post_webhook(second, "ttn-api", fixture("tts_uplink_mqtt")).status_code == 202
    finally:
        first.close()
        second.close()


def test_lorawan_list_shows_integrations_created_through_the_api(tmp_path):
    (tmp_path / "cityhub.toml").write_text('[[lorawan]]\nname = "ttn-city"\nnetwork = "ttn"\n')
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    store.migrate()
    document = {"name": "cs-api", "network": "chirpstack", "secret_env": SECRET_ENV}
    store.write_blocking(lambda c: managed.add(c, schema.lorawan_integrations, "cs-api", document))
    store.close()
    listed = CliRunner().invoke(main, ["lorawan", "list", "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert "ttn-city  (ttn)\n" in listed.output
    assert "cs-api  (chirpstack)  [admin API]" in listed.output
    assert "POST /ingest/lorawan/cs-api" in listed.output
