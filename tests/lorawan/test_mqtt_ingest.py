"""Uplinks through a real Mosquitto into Observations: every network's wire format, a QoS 1
persistent session that keeps what arrives while the hub is down, redeliveries and the same
uplink by webhook and MQTT stored once, bad messages kept as dead letters without stopping
the subscriber. Skipped without Mosquitto at 127.0.0.1:1883 unless
CITYHUB_REQUIRE_MOSQUITTO=1."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import paho.mqtt.client as paho
import psycopg
import pytest
from google.protobuf import json_format
from paho.mqtt.enums import CallbackAPIVersion

from cityhub.lorawan.formats import chirpstack_proto
from conftest import POSTGRES_URL, HubClient
from sensorthings.mqtt_helpers import MOSQUITTO, require_mosquitto, wait_for

from .helpers import (
    CS3_EUI,
    CS_EUI,
    SECRET,
    SECRET_ENV,
    TTS_EUI,
    add_device,
    dead_letters,
    fixture,
    integration,
    lorawan_hub,
    observations,
    post_webhook,
    tts_uplink,
)

BROKER = f"mqtt://{MOSQUITTO[0]}:{MOSQUITTO[1]}"


class Network:
    """The integrations of one test, on topics no other test uses."""

    def __init__(self, settings: Any) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.app = f"air-{self.tag}"
        self.prefix = f"cs-{self.tag}/"
        self.integrations = [
            integration(
                "ttn-mq",
                "ttn",
                broker_url=BROKER,
                topics=[f"v3/{self.app}@ttn/devices/+/up"],
                client_id=f"test-lorawan-ttn-{self.tag}",
            ),
            integration(
                "cs-mq",
                "chirpstack",
                broker_url=BROKER,
                topics=[f"{self.prefix}application/+/device/+/event/+"],
                client_id=f"test-lorawan-cs-{self.tag}",
            ),
            integration(
                "cs3-mq",
                "chirpstack3",
                broker_url=BROKER,
                topics=[f"{self.prefix}v3/application/+/device/+/rx"],
                client_id=f"test-lorawan-cs3-{self.tag}",
            ),
        ]
        self.settings = settings
        self.publisher = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{self.tag}")
        self.publisher.connect(*MOSQUITTO)
        self.publisher.loop_start()

    def start_hub(self) -> HubClient:
        hub = lorawan_hub(self.settings, *self.integrations)
        wait_for(lambda: all(_subscribed(hub)), "the LoRaWAN subscriptions")
        return hub

    def publish(self, topic: str, payload: Any) -> None:
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        self.publisher.publish(topic, data, qos=1).wait_for_publish(10)

    def tts(self, body: dict[str, Any]) -> None:
        body = copy.deepcopy(body)
        body["end_device_ids"]["application_ids"]["application_id"] = self.app
        self.publish(f"v3/{self.app}@ttn/devices/air-quality-07/up", body)

    def chirpstack(self, body: Any, event: str = "up") -> None:
        app = "0c3b8b9e-7c4b-4d61-9f0a-3a5d2b1e6f70"
        topic = f"{self.prefix}application/{app}/device/{CS_EUI.lower()}/event/{event}"
        self.publish(topic, body)

    def chirpstack3(self, body: Any, dev_eui: str = CS3_EUI) -> None:
        self.publish(f"{self.prefix}v3/application/7/device/{dev_eui.lower()}/rx", body)

    def close(self) -> None:
        self.publisher.loop_stop()
        self.publisher.disconnect()
        for entry in self.integrations:  # end the persistent sessions of this test
            cleaner = paho.Client(
                CallbackAPIVersion.VERSION2, client_id=entry.mqtt_client_id, clean_session=True
            )
            cleaner.connect(*MOSQUITTO)
            cleaner.disconnect()


def _subscribed(hub: HubClient) -> list[bool]:
    listed = hub.get("/api/admin/lorawan/integrations", headers=hub.admin).json()
    return [entry.get("subscriber", {}).get("subscribed", False) for entry in listed]


def _counters(hub: HubClient, name: str) -> dict[str, Any]:
    listed = hub.get("/api/admin/lorawan/integrations", headers=hub.admin).json()
    return next(entry["subscriber"] for entry in listed if entry["name"] == name)


@pytest.fixture
def network(backend_settings, monkeypatch) -> Iterator[Network]:
    require_mosquitto()
    monkeypatch.setenv(SECRET_ENV, SECRET)
    found = Network(backend_settings)
    yield found
    found.close()


@pytest.fixture
def hub(network: Network) -> Iterator[HubClient]:
    started = network.start_hub()
    yield started
    started.close()


def _results(hub: HubClient, datastream_id: int, count: int) -> list[Any]:
    found = wait_for(
        lambda: len(observations(hub, datastream_id)) >= count and observations(hub, datastream_id),
        f"{count} Observations in Datastream({datastream_id})",
    )
    return [o["result"] for o in found]


def _protobuf_uplink() -> bytes:
    data = fixture("chirpstack_up")
    data["deduplicationId"] = "6a1f9f73-4d9b-4f32-8c4d-8e72a1b5d3fa"
    data["fCnt"] = 1289
    data["time"] = "2026-11-14T09:41:07.5+00:00"
    data["object"] = {"laeq": 61.0, "lamax": 70.5, "lamin": 45.0}
    message = chirpstack_proto.message_class("up")()
    json_format.ParseDict(data, message, ignore_unknown_fields=True)
    return message.SerializeToString()


def test_uplinks_of_every_network_become_observations(network, hub):
    tts = add_device(hub, dev_eui=TTS_EUI, fields=["temperature"])
    chirpstack = add_device(hub, dev_eui=CS_EUI, fields=["laeq"])
    chirpstack3 = add_device(hub, dev_eui=CS3_EUI, fields=["fill_level"])
    network.tts(fixture("tts_uplink_mqtt"))
    network.chirpstack(fixture("chirpstack_up"))
    network.chirpstack(_protobuf_uplink())
    network.chirpstack3(fixture("chirpstack3_up"))
    network.chirpstack(fixture("chirpstack_status"), event="status")

    assert _results(hub, tts["mapping"]["temperature"], 1) == [25.18]
    assert _results(hub, chirpstack["mapping"]["laeq"], 2) == [58.5, 61.0]
    assert _results(hub, chirpstack3["mapping"]["fill_level"], 1) == [61]
    device = wait_for(
        lambda: hub.get(f"/api/admin/lorawan/devices/{CS_EUI}", headers=hub.admin).json()[
            "battery"
        ],
        "the status event",
    )
    assert device == 87.5
    assert _counters(hub, "cs-mq")["stored"] == 2


def test_redelivery_and_webhook_plus_mqtt_store_an_uplink_once(network, hub):
    device = add_device(hub, dev_eui=TTS_EUI, fields=["humidity"])
    uplink = fixture("tts_uplink_mqtt")
    network.tts(uplink)
    network.tts(uplink)
    wait_for(lambda: _counters(hub, "ttn-mq")["duplicate"] == 1, "the duplicate")
    webhook = post_webhook(hub, "ttn-mq", uplink)
    assert webhook.json()["status"] == "duplicate"
    assert _results(hub, device["mapping"]["humidity"], 1) == [27]
    assert _counters(hub, "ttn-mq")["stored"] == 1


def test_uplinks_sent_while_the_hub_is_down_arrive_when_it_returns(network):
    first = network.start_hub()
    device = add_device(first, dev_eui=TTS_EUI, fields=["humidity"])
    first.close()
    for count in range(3):
        network.tts(
            tts_uplink(f_cnt=100 + count, correlation=f"DOWN{count}", decoded={"humidity": count})
        )
    again = network.start_hub()
    try:
        assert _results(again, device["mapping"]["humidity"], 3) == [0, 1, 2]
    finally:
        again.close()


def test_a_bad_message_is_a_dead_letter_and_the_next_one_is_stored(network, hub):
    device = add_device(hub, dev_eui=CS3_EUI, fields=["fill_level"])
    network.chirpstack3(b"\xff not json")
    unknown = fixture("chirpstack3_up")
    unknown["devEUI"] = "ESIzRFVmd4g="  # 1122334455667788: not registered
    network.chirpstack3(unknown, dev_eui="1122334455667788")
    network.chirpstack3(fixture("chirpstack3_up"))
    assert _results(hub, device["mapping"]["fill_level"], 1) == [61]
    letters = wait_for(lambda: len(dead_letters(hub)) == 2 and dead_letters(hub), "dead letters")
    reasons = sorted(letter["reason"].split(" ")[0] for letter in letters)
    assert reasons == ["malformed:", "unknown"]
    assert all(letter["topic"].endswith("/rx") for letter in letters)
    assert _counters(hub, "cs3-mq")["dead"] == 2


def test_an_uplink_whose_commit_fails_is_kept_and_stored_after_the_database_returns(network, hub):
    if hub.settings.database_url is None:
        pytest.skip("only PostgreSQL connections can be cut from outside")
    device = add_device(hub, dev_eui=TTS_EUI, fields=["humidity"])
    store = hub.store
    pid = store.write_blocking(lambda c: c.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    network.tts(fixture("tts_uplink_mqtt"))
    assert _results(hub, device["mapping"]["humidity"], 1) == [27]
    counters = _counters(hub, "ttn-mq")
    assert counters["retried"] == 1  # the first commit failed; the uplink was not acked
    assert counters["stored"] == 1
