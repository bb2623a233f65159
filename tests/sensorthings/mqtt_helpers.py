"""MQTT test helpers: brokers to test against, a paho test client, waiting for conditions."""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cityhub.settings import Settings
from conftest import ADMIN_TOKEN, HubClient

MOSQUITTO = ("127.0.0.1", 1883)
REQUIRE_MOSQUITTO = os.environ.get("CITYHUB_REQUIRE_MOSQUITTO") == "1"
TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mosquitto_problem() -> str | None:
    try:
        with socket.create_connection(MOSQUITTO, timeout=3):
            return None
    except OSError as exc:
        return f"no MQTT broker at {MOSQUITTO[0]}:{MOSQUITTO[1]} ({exc.__class__.__name__})"


def require_mosquitto() -> None:
    problem = mosquitto_problem()
    if problem:
        if REQUIRE_MOSQUITTO:
            pytest.fail(problem)
        pytest.skip(problem)


def mqtt_settings(base: Settings, broker: str, **extra: Any) -> Settings:
    """``base`` with MQTT on: the embedded broker on a free port, or Mosquitto with topics
    and client ids of this test only."""
    tag = uuid.uuid4().hex[:8]
    update: dict[str, Any] = {
        "mqtt_enabled": True,
        "base_url": "http://testserver",
        "mqtt_client_id": f"hub-{tag}",
    }
    if broker == "embedded":
        update["mqtt_port"] = free_port()
    else:
        update["mqtt_url"] = f"mqtt://{MOSQUITTO[0]}:{MOSQUITTO[1]}"
        update["mqtt_topic_prefix"] = f"test-{tag}/"
        update["mqtt_shared_group"] = f"group-{tag}"
    update.update(extra)
    return base.model_copy(update=update)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``condition`` until it is true; for state that offers no event to wait on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class TestClient:
    """A paho client as a city's application would use it, collecting what it receives."""

    __test__ = False

    def __init__(self, host: str, port: int, prefix: str = "", password: str | None = None) -> None:
        self.prefix = prefix
        self.messages: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._aside: list[tuple[str, Any]] = []  # received, not yet asked for
        self._subscribed: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex}")
        client.on_message = self._message
        client.on_subscribe = self._suback
        connected = threading.Event()
        client.on_connect = lambda *args: connected.set()
        client.max_inflight_messages_set(1000)
        if password is not None:
            client.username_pw_set("test", password)
        client.connect(host, port)
        client.loop_start()
        assert connected.wait(TIMEOUT), "test client could not connect"
        self.client = client

    def _message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        topic = message.topic.removeprefix(self.prefix)
        self.messages.put((topic, orjson.loads(message.payload)))

    def _suback(self, client: paho.Client, userdata: object, mid: int, *args: object) -> None:
        with self._lock:
            event = self._subscribed.setdefault(mid, threading.Event())
        event.set()

    def subscribe(self, *topics: str) -> None:
        """Subscribe at QoS 1 and wait for the broker's SUBACK."""
        with self._lock:
            _, mid = self.client.subscribe([(self.prefix + t, 1) for t in topics])
            event = self._subscribed.setdefault(mid, threading.Event())
        assert event.wait(TIMEOUT), f"no SUBACK for {topics}"

    def publish(self, topic: str, payload: Any, qos: int = 1) -> paho.MQTTMessageInfo:
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        return self.client.publish(self.prefix + topic, data, qos)

    def receive(self, timeout: float = TIMEOUT) -> tuple[str, Any]:
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no MQTT message arrived") from None

    def receive_on(
        self, topic: str, count: int = 1, where: Callable[[Any], bool] = lambda payload: True
    ) -> list[Any]:
        """The next ``count`` payloads on ``topic`` that satisfy ``where`` (others that arrive
        are kept aside)."""
        found: list[Any] = []
        rest = []
        for got_topic, payload in self._aside:
            if got_topic == topic and where(payload) and len(found) < count:
                found.append(payload)
            else:
                rest.append((got_topic, payload))
        self._aside = rest
        deadline = time.monotonic() + TIMEOUT
        while len(found) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"got {len(found)} of {count} messages on {topic}")
            got_topic, payload = self.receive(remaining)
            if got_topic == topic and where(payload):
                found.append(payload)
            else:
                self._aside.append((got_topic, payload))
        return found

    def drain(self) -> list[tuple[str, Any]]:
        """Everything received and not yet asked for."""
        found, self._aside = self._aside, []
        while True:
            try:
                found.append(self.messages.get_nowait())
            except queue.Empty:
                return found

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def start_hub(settings: Settings) -> HubClient:
    """The hub in-process with MQTT on, once it has subscribed to its create topics."""
    hub = HubClient(settings)
    mqtt = hub.app.state.mqtt
    assert mqtt.client is not None, mqtt.problem
    assert mqtt.client.subscribed.wait(TIMEOUT), "the hub did not subscribe to its create topics"
    return hub


def client_for(hub: HubClient, password: str | None = ADMIN_TOKEN) -> TestClient:
    """A client of the hub's broker; on the embedded one its password is an API token."""
    settings = hub.settings
    if settings.mqtt_url:
        return TestClient(*MOSQUITTO, prefix=settings.mqtt_topic_prefix)
    return TestClient(settings.host, settings.mqtt_port, password=password)


def mqtt_stats(hub: HubClient) -> dict:
    """The hub's MQTT state and counters, as ``/api/mqtt`` shows them."""
    return hub.get("/api/mqtt").json()
