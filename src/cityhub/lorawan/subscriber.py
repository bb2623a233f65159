"""One MQTT subscriber per integration: the network server's broker → the ingest core.

paho's network thread only queues what arrives. A batcher thread takes everything queued
(up to ``MAX_BATCH`` messages) and hands it to the ingest core as one write; the writer may
commit several such writes together. Each message is acknowledged (QoS 1) only after the
commit that holds its uplink, its event or its dead letter, so a hub that stops or crashes
before then gets it again: the session is persistent (fixed client id, no clean start) and
deduplication makes the redelivery harmless. If the database is unavailable, the batch is
kept and tried again with backoff, never acknowledged meanwhile.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from cityhub.lorawan.config import LorawanIntegration
from cityhub.lorawan.ingest import LorawanIngest, Outcome, Received
from cityhub.mqtt.client import parse_broker_url
from cityhub.store.writer import WriterStopped

log = logging.getLogger(__name__)

MAX_BATCH = 2000
#: Batches handed to the writer and not yet committed; beyond it the batcher waits.
MAX_PENDING = 8
_KEEPALIVE_SECONDS = 30
_RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30)
#: Queued before a batch that failed: the batcher waits before storing it again.
_BACKOFF = object()


@dataclass
class Counters:
    """What one subscriber has seen, for ``/api/admin/lorawan/integrations``."""

    received: int = 0
    stored: int = 0
    duplicate: int = 0
    event: int = 0
    dead: int = 0
    retried: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcomes: list[Outcome]) -> None:
        with self.lock:
            for outcome in outcomes:
                setattr(self, outcome.status, getattr(self, outcome.status) + 1)

    def as_dict(self) -> dict[str, int]:
        names = ("received", "stored", "duplicate", "event", "dead", "retried")
        return {name: getattr(self, name) for name in names}


class Subscriber:
    """Subscribes to one integration's topics and feeds the ingest core in batches."""

    def __init__(self, integration: LorawanIntegration, core: LorawanIngest) -> None:
        assert integration.broker_url is not None
        self.integration = integration
        self.core = core
        self.address = parse_broker_url(integration.broker_url)
        self.counters = Counters()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending = threading.Semaphore(MAX_PENDING)
        self._stopping = threading.Event()
        self._batcher: threading.Thread | None = None
        self._client = self._make_client()

    def _make_client(self) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.integration.mqtt_client_id,
            protocol=paho.MQTTv311,
            clean_session=False,
            manual_ack=True,
        )
        username = self.integration.username or self.address.username
        password = self.integration.password() or self.address.password
        if username is not None:
            client.username_pw_set(username, password)
        if self.address.tls:
            client.tls_set(ca_certs=self.integration.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_subscribe = self._subscribed
        client.on_message = self._message
        return client

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; paho reconnects with backoff until ``stop``."""
        self._batcher = threading.Thread(
            target=self._run_batches, name=f"cityhub-lorawan-{self.integration.name}", daemon=True
        )
        self._batcher.start()
        self._client.connect_async(self.address.host, self.address.port, _KEEPALIVE_SECONDS)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect, then let the batcher hand over what it has and finish."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        self._queue.put(None)
        if self._batcher is not None:
            self._batcher.join(30)
        for _ in range(MAX_PENDING):  # wait for the batches in the writer
            self._pending.acquire(timeout=30)
        self.connected.clear()

    def status(self) -> dict[str, Any]:
        return {
            "connected": self.connected.is_set(),
            "subscribed": self.subscribed.is_set(),
            "broker": self.address.public,
            "client_id": self.integration.mqtt_client_id,
            **self.counters.as_dict(),
        }

    # --- paho callbacks (network thread) -------------------------------------------------

    def _connected(self, client: paho.Client, userdata: object, flags: object, reason: object,
                   properties: object) -> None:  # fmt: skip
        if getattr(reason, "is_failure", False):
            log.warning("LoRaWAN %s: the broker refused us: %s", self.integration.name, reason)
            return
        log.info("LoRaWAN %s: connected to %s", self.integration.name, self.address.public)
        self.connected.set()
        qos = self.integration.qos
        client.subscribe([(topic, qos) for topic in self.integration.topic_filters])

    def _disconnected(self, client: paho.Client, userdata: object, flags: object, reason: object,
                      properties: object) -> None:  # fmt: skip
        if self.connected.is_set() and not self._stopping.is_set():
            log.warning("LoRaWAN %s: lost the broker (%s); reconnecting", self.integration.name,
                        reason)  # fmt: skip
        self.connected.clear()
        self.subscribed.clear()

    def _subscribed(self, client: paho.Client, userdata: object, mid: int, reasons: Any,
                    properties: object) -> None:  # fmt: skip
        failed = [r for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            log.error("LoRaWAN %s: subscription refused: %s", self.integration.name, failed)
        self.subscribed.set()

    def _message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        self._queue.put(message)

    # --- batching (batcher thread) -------------------------------------------------------

    def _run_batches(self) -> None:
        failures = 0
        while True:
            batch, stop, backoff = self._take()
            if backoff:
                failures += 1
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS)) - 1]
                if self._stopping.wait(delay):
                    return  # unacknowledged: the broker delivers them again
            elif batch:
                failures = 0
            if batch:
                self._pending.acquire()
                self._hand_over(batch)
            if stop:
                return

    def _take(self) -> tuple[list[paho.MQTTMessage], bool, bool]:
        """What is queued (blocking for the first): the messages, whether to stop, and
        whether a failed batch came back (then wait before storing it again)."""
        batch: list[paho.MQTTMessage] = []
        backoff = False
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get(block=not batch and not backoff)
            except queue.Empty:
                break
            if item is None:
                return batch, True, backoff
            if item is _BACKOFF:
                backoff = True
                continue
            batch.append(item)
        return batch, False, backoff

    def _hand_over(self, batch: list[paho.MQTTMessage]) -> None:
        """Queue the batch's write and wait for nothing: acknowledged after its commit."""
        now = datetime.now(UTC)
        name = self.integration.name
        received = [Received(name, m.payload, topic=m.topic, received_at=now) for m in batch]
        with self.counters.lock:
            self.counters.received += len(batch)
        try:
            future = self.core.submit(received)
        except WriterStopped:  # the hub is stopping: unacknowledged, delivered again later
            self._pending.release()
            return
        future.add_done_callback(lambda done: self._committed(batch, done))

    def _committed(self, batch: list[paho.MQTTMessage], done: Future[list[Outcome]]) -> None:
        """In the writer thread: acknowledge the batch, or give it back to be tried again."""
        self._pending.release()
        error = done.exception() if not done.cancelled() else RuntimeError("cancelled")
        if error is not None:
            log.warning("LoRaWAN %s: a batch of %d was not stored (%s); trying again",
                        self.integration.name, len(batch), error)  # fmt: skip
            with self.counters.lock:
                self.counters.retried += len(batch)
            if not self._stopping.is_set():
                self._queue.put(_BACKOFF)
                for message in batch:
                    self._queue.put(message)
            return
        self.counters.count(done.result())
        for message in batch:
            if message.qos > 0:
                self._client.ack(message.mid, message.qos)
