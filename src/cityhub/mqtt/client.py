"""The hub's MQTT client (paho-mqtt), the same for the embedded and an external broker.

paho runs its network loop in its own thread and reconnects with backoff by itself. The
session is persistent (a stable client id, no clean start), so Observations published while the
hub was briefly away are delivered when it returns; the create subscription is renewed on
every connect. Acknowledgements are manual: a QoS 1 create is acked after its commit.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

log = logging.getLogger(__name__)

# A user property on every notification (MQTT 5), so no hub takes one for a create.
NOTIFICATION_MARK = ("cityhub", "notification")
SESSION_EXPIRY_SECONDS = 24 * 3600
_KEEPALIVE_SECONDS = 30
_INFLIGHT = 1000  # unacknowledged notifications in flight to the broker


class BrokerUrlError(ValueError):
    """``mqtt_url`` is not a broker address the hub can use."""


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @property
    def public(self) -> str:
        """The address without credentials, for messages and the service root."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise BrokerUrlError(f"mqtt_url {url!r}: use mqtt://host:port or mqtts://host:port")
    if not parts.hostname:
        raise BrokerUrlError(f"mqtt_url {url!r} names no host")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise BrokerUrlError(f"mqtt_url {url!r} has an invalid port") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return BrokerAddress(parts.hostname, port, tls, username, password)


MessageHandler = Callable[[paho.MQTTMessage], None]


class HubClient:
    """One paho connection: subscribes to the create topics, publishes notifications."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        create_filters: list[str],
        on_message: MessageHandler,
        mqtt5: bool,
    ) -> None:
        self.address = address
        self.client_id = client_id
        self.mqtt5 = mqtt5
        self._create_filters = create_filters
        self._on_message = on_message
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stopping = False
        protocol = paho.MQTTv5 if mqtt5 else paho.MQTTv311
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=protocol,
            manual_ack=True,
            **({} if mqtt5 else {"clean_session": False}),
        )
        if address.username is not None:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(_INFLIGHT)
        client.max_queued_messages_set(0)  # 0: unlimited; the notifier bounds what it sends
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_subscribe = self._subscribed
        client.on_message = self._message
        self._client = client
        self._subscribe_mid: int | None = None
        self._last_notification: paho.MQTTMessageInfo | None = None
        self._notification_properties: Properties | None = None
        if mqtt5:
            properties = Properties(PacketTypes.PUBLISH)
            properties.UserProperty = [NOTIFICATION_MARK]
            self._notification_properties = properties

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting until ``stop``."""
        properties = None
        if self.mqtt5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=_KEEPALIVE_SECONDS,
            clean_start=False if self.mqtt5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties,
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()

    def publish_notification(self, topic: str, payload: bytes, qos: int) -> None:
        self._last_notification = self._client.publish(
            topic, payload, qos, properties=self._notification_properties
        )

    def notifications_sent(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the notifications published so far to have gone out
        (sent at QoS 0, acknowledged by the broker at QoS 1); whether they have. paho sends
        its messages in order, so the last one stands for all. While the broker is away
        nothing goes out: this waits for it to come back and answers no."""
        last = self._last_notification
        if last is None:
            return True
        if not self.connected.is_set():
            self.connected.wait(timeout)
            return False  # connected now, paho sends what it holds; the next call sees it
        try:
            last.wait_for_publish(timeout)
        except (ValueError, RuntimeError):  # published before a reconnect, or dropped
            return True
        return last.is_published()

    def ack(self, message: paho.MQTTMessage) -> None:
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)

    # --- paho callbacks (network thread) ------------------------------------------------

    def _connected(self, client: paho.Client, userdata: object, flags: object, reason: object,
                   properties: object) -> None:  # fmt: skip
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker %s refused the connection: %s", self.address.public, reason)
            return
        log.info("connected to the MQTT broker %s as %s", self.address.public, self.client_id)
        _send_at_once(client)
        self.connected.set()
        if not self._create_filters:
            self.subscribed.set()
            return
        options: SubscribeOptions | int = 1
        if self.mqtt5:
            # No-local spares a lone hub its own notifications; MQTT 5 forbids it on shared
            # subscriptions, where the notification mark does that work.
            shared = any(f.startswith("$share/") for f in self._create_filters)
            options = SubscribeOptions(qos=1, noLocal=not shared)
        _, self._subscribe_mid = client.subscribe([(f, options) for f in self._create_filters])

    def _disconnected(self, client: paho.Client, userdata: object, flags: object, reason: object,
                      properties: object) -> None:  # fmt: skip
        if self.connected.is_set() and not self._stopping:
            log.warning("lost the MQTT broker %s (%s); reconnecting", self.address.public, reason)
        self.connected.clear()
        self.subscribed.clear()

    def _subscribed(self, client: paho.Client, userdata: object, mid: int, reasons: object,
                    properties: object) -> None:  # fmt: skip
        if mid == self._subscribe_mid:
            failed = [r for r in reasons if getattr(r, "is_failure", False)]  # type: ignore[attr-defined]
            if failed:
                log.error("the MQTT broker refused the create subscription: %s", failed)
            self.subscribed.set()

    def _message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        try:
            self._on_message(message)
        except Exception:  # the network thread must survive any message
            log.exception("handling an MQTT message on %s failed", message.topic)
            self.ack(message)


def _send_at_once(client: paho.Client) -> None:
    """Turn off Nagle's algorithm on the connection (paho leaves it on).

    With it, a small packet waits while an earlier one is unacknowledged, and the broker's
    TCP stack delays its acknowledgement by up to 40 ms: an acknowledged create followed by
    its notification, or acks interleaved with notifications, stalled that long each time."""
    sock = client.socket()
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def is_notification(message: paho.MQTTMessage) -> bool:
    """Whether the message carries the hub's MQTT 5 notification mark."""
    properties = getattr(message, "properties", None)
    marks = getattr(properties, "UserProperty", None) or ()
    return NOTIFICATION_MARK in marks
