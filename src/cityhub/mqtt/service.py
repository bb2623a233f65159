"""The MQTT face: the embedded broker (or none), the hub's client, creates and notifications.

With ``mqtt_url`` the hub uses that broker (MQTT 5, shared subscriptions so several hub
processes divide the creates); otherwise it starts the embedded broker on ``mqtt_port`` and
connects to it (MQTT 3.1.1, the one process sees every subscription). If that port is taken,
the hub runs without MQTT and says how to fix it.
"""

from __future__ import annotations

import logging
import secrets
import socket
from typing import Any

from cityhub.auth import Authenticator
from cityhub.mqtt.broker import EmbeddedBroker, PortInUse
from cityhub.mqtt.client import BrokerAddress, HubClient, parse_broker_url
from cityhub.mqtt.create import CreateConsumer
from cityhub.mqtt.guard import HUB_USERNAME, PublishGuard
from cityhub.mqtt.notify import Notifier
from cityhub.mqtt.stats import MqttStats
from cityhub.mqtt.topics import Interest, create_filters
from cityhub.settings import Settings
from cityhub.store.database import Store

log = logging.getLogger(__name__)

_REQ = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
CREATE_CLASS = _REQ + "create-observations-via-mqtt/observations-creation"
RECEIVE_CLASS = _REQ + "receive-updates-via-mqtt/receive-updates"


def default_base_url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return (settings.base_url or f"http://{host}:{settings.port}").rstrip("/")


class MqttService:
    """Starts and stops the MQTT face; its state is reported at ``/api/mqtt``."""

    def __init__(self, store: Store, settings: Settings, auth: Authenticator) -> None:
        self.store = store
        self.settings = settings
        self.auth = auth
        self.stats = MqttStats()
        self.problem: str | None = None  # why MQTT is not running, for people and /api/mqtt
        self.broker: EmbeddedBroker | None = None
        self.client: HubClient | None = None
        self.notifier: Notifier | None = None
        self.consumer: CreateConsumer | None = None
        self.external = settings.mqtt_url is not None
        if self.external:
            assert settings.mqtt_url is not None
            self.address = parse_broker_url(settings.mqtt_url)
        else:
            # The hub's own login to its broker: it alone publishes notifications.
            self._hub_password = secrets.token_urlsafe(24)
            self.address = BrokerAddress(
                settings.host, settings.mqtt_port, False, HUB_USERNAME, self._hub_password
            )
        default_id = f"cityhub-{socket.gethostname()}-{settings.port}"
        self.client_id = settings.mqtt_client_id or default_id

    @property
    def running(self) -> bool:
        return self.client is not None

    def start(self) -> None:
        """Start what MQTT needs; never fails the hub's start for a taken port."""
        if not self.external:
            prefix = self.settings.mqtt_topic_prefix
            guard = PublishGuard(self.auth, prefix, self._hub_password, self.stats)
            broker = EmbeddedBroker(self.settings.host, self.settings.mqtt_port, guard)
            try:
                broker.start()
            except PortInUse as exc:
                self.problem = str(exc)
                log.warning("%s", exc)
                return
            self.broker = broker
        prefix = self.settings.mqtt_topic_prefix
        consumer = CreateConsumer(self.store, prefix, self.stats)
        filters = create_filters(prefix)
        group = self.settings.mqtt_shared_group
        if self.external and group:
            filters = [f"$share/{group}/{topic_filter}" for topic_filter in filters]
        client = HubClient(self.address, self.client_id, filters, consumer.handle, self.external)
        consumer.ack = client.ack
        qos = self.settings.mqtt_notify_qos
        broker = self.broker
        if broker is None:

            def publish(topic: str, payload: bytes) -> None:
                client.publish_notification(topic, payload, qos)

        else:

            def publish(topic: str, payload: bytes) -> None:
                broker.deliver(topic, payload, qos, excluding_client=self.client_id)

        notifier = Notifier(
            self.store,
            publish,
            self._interest,
            default_base_url(self.settings),
            prefix,
            self.stats,
            sent=client.notifications_sent if broker is None else None,
        )
        notifier.start()
        self.store.set_commit_listener(notifier.on_commit)
        client.start()
        self.client, self.notifier, self.consumer = client, notifier, consumer

    def _interest(self) -> Interest:
        if self.broker is None:
            return Interest(None, self.settings.mqtt_topic_prefix)
        filters = self.broker.subscriptions(excluding_client=self.client_id)
        return Interest(filters, self.settings.mqtt_topic_prefix)

    def stop(self) -> None:
        self.store.set_commit_listener(None)
        if self.notifier is not None:  # first: what it is sending goes out while connected
            self.notifier.stop()
        if self.client is not None:
            self.client.stop()
        if self.broker is not None:
            self.broker.stop()
        self.client = self.notifier = self.broker = None

    def endpoint(self, request_host: str | None) -> str:
        """The broker address clients should use."""
        if self.settings.mqtt_public_url:
            return self.settings.mqtt_public_url
        if self.external:
            return self.address.public
        host = request_host or self.settings.host
        return BrokerAddress(host, self.settings.mqtt_port).public

    def describe(self, server_settings: dict[str, Any], request_host: str | None) -> None:
        """Add the MQTT classes and their endpoints to the service root's serverSettings."""
        if not self.running:
            return
        server_settings["conformance"] += [CREATE_CLASS, RECEIVE_CLASS]
        endpoints = [self.endpoint(request_host)]
        server_settings[CREATE_CLASS] = {"endpoints": endpoints}
        server_settings[RECEIVE_CLASS] = {"endpoints": endpoints}

    def status(self) -> dict[str, Any]:
        client = self.client
        return {
            "enabled": True,
            "broker": "external" if self.external else "embedded",
            "endpoint": self.endpoint(None),
            "connected": bool(client and client.connected.is_set()),
            "problem": self.problem,
            **self.stats.as_dict(),
        }
