"""Publish-to-create (clause 14.1): an Observation published to a create topic is stored.

The message is parsed on paho's network thread and queued with the store's writer, exactly as
an HTTP POST is (many at once on ``v1.1/CreateObservations``, see ``bulk.py``): consecutive
creates are committed together (``ObservationCreate`` batching) and nothing on the network
thread waits for the database. The message is acknowledged (QoS 1) from the writer thread once
its commit is done, or once it was rejected: a bad message is logged and counted, never
redelivered forever, and never stops the ones after it. A message the database could not take
(it is unavailable) is not acknowledged: the broker delivers it again.

The hub's own notifications on ``v1.1/Observations`` are not creates. They are recognised by
their MQTT 5 user property and, on any broker, by their ``@iot.selfLink``: a created entity's
representation, which no create request carries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import orjson
import paho.mqtt.client as paho
from sqlalchemy import Connection

from cityhub.errors import ApiError
from cityhub.mqtt import bulk
from cityhub.mqtt.client import is_notification
from cityhub.mqtt.stats import MqttStats
from cityhub.mqtt.topics import CreateTarget, bulk_topic, create_target
from cityhub.sensorthings import reads, writes
from cityhub.sensorthings.ingest import OBSERVATION, ObservationCreate
from cityhub.store.access import ANYONE, hidden_datasets
from cityhub.store.database import Store
from cityhub.store.writer import WriterStopped

log = logging.getLogger(__name__)

Stored = Callable[[Any], None]  # after the commit: counts (and logs) what a write stored


class CreateConsumer:
    """Turns messages on the create topics into queued writes."""

    def __init__(self, store: Store, prefix: str, stats: MqttStats) -> None:
        self._store = store
        self._prefix = prefix
        self._bulk_topic = bulk_topic(prefix)
        self._stats = stats
        self.ack: Any = None  # set by the service: acknowledges one message

    def handle(self, message: paho.MQTTMessage) -> None:
        """Called on the network thread for every message on a create filter."""
        if is_notification(message):
            self._ignore(message)
            return
        try:
            body = orjson.loads(message.payload)
        except orjson.JSONDecodeError as exc:
            self._stats.add("received")
            self._reject(message, exc)
            return
        if isinstance(body, dict) and "@iot.selfLink" in body:
            self._ignore(message)
            return
        self._stats.add("received")
        try:
            write, stored = self._write_for(message.topic, body)
        except ApiError as exc:
            self._reject(message, exc)
            return
        try:
            future = self._store.queue_write(write)
        except WriterStopped:
            return  # shutting down: left unacknowledged, the broker delivers it again
        future.add_done_callback(lambda done: self._committed(message, done, stored))

    def _write_for(self, topic: str, body: Any) -> tuple[Any, Stored]:
        """The write for a message and what to do with its result once committed."""
        if topic == self._bulk_topic:
            return bulk.load_for(body), lambda loaded: bulk.report(topic, loaded, self._stats)
        target = create_target(topic, self._prefix)
        return _write_for(target, body), lambda _: self._stats.add("created")

    def _committed(self, message: paho.MQTTMessage, done: Future[Any], stored: Stored) -> None:
        """In the writer thread, after the commit (or rejection) of the message's create."""
        error = done.exception() if not done.cancelled() else WriterStopped("cancelled")
        if error is None:
            stored(done.result())
        elif isinstance(error, ApiError) and error.status < 500:
            self._reject(message, error)
            return
        else:
            # The database is unavailable: no ack, so the broker delivers the message again.
            log.warning("MQTT create on %s not stored: %s", message.topic, error)
            self._stats.add("unstored")
            return
        self.ack(message)

    def _reject(self, message: paho.MQTTMessage, error: Exception) -> None:
        reason = error.message if isinstance(error, ApiError) else f"not JSON: {error}"
        log.warning("MQTT message on %s rejected: %s", message.topic, reason)
        self._stats.add("rejected")
        self.ack(message)

    def _ignore(self, message: paho.MQTTMessage) -> None:
        self._stats.add("ignored")
        self.ack(message)


def _write_for(target: CreateTarget, body: Any) -> Any:
    """The write for one Observation: the batchable create unless a parent must be checked.

    Written as anyone reads (see ``bulk.load_for``): a topic carries no token to the hub."""
    if target.parent is None or "datastream_id" in target.fixed:
        return ObservationCreate(body, target.fixed, ANYONE)
    parent = target.parent

    def create_under_parent(connection: Connection) -> int:
        hidden = hidden_datasets(connection, ANYONE)
        writes.write_as(connection, None, hidden)
        reads.resolve(connection, parent, hidden)  # 404 if the FeatureOfInterest does not exist
        return writes.create(connection, OBSERVATION, body, target.fixed)

    return create_under_parent
