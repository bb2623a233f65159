"""The LoRaWAN ingest core: network server messages in, Observations out, in one transaction
per batch.

Whatever brings the messages (MQTT, a webhook, a dead letter's retry), they take one path:

1. parse (``formats``) → an ``Uplink``, another device ``Event``, or a dead letter;
2. find the devices of the whole batch in the registry (one query); an unknown device is
   provisioned if its integration allows it, else its uplink is a dead letter;
3. decode: the network server's decoded payload if it sent one, else the device's decoder;
4. check each mapped value against its Datastream (type, declared range);
5. deduplicate: each uplink's key (network deduplication id, else session and frame
   counter) is inserted with ON CONFLICT DO NOTHING; only new uplinks go on;
6. load their Observations with the bulk loader (phenomenonTime = reception time at the
   network, resultTime = now), keep status events' battery and margin, keep dead letters.

Every message gets an ``Outcome``; none can stop the others. If anything unexpected fails
for the batch, each message is redone alone in a savepoint, and the one that fails again
becomes a dead letter naming the error. Only a lost database raises: then nothing of the
batch is stored and nothing may be acknowledged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from cityhub.lorawan import deadletters, observations, registry, uplinks
from cityhub.lorawan.config import LorawanIntegration
from cityhub.lorawan.formats import parse
from cityhub.lorawan.observations import NewObservation
from cityhub.lorawan.registry import Device, FieldSpec, Target
from cityhub.lorawan.uplink import Event, FormatError, Uplink
from cityhub.lorawan.values import (
    as_number,
    checked_value,
    flatten,
    radio_values,
    resolve_decoder,
)
from cityhub.store.database import Store

log = logging.getLogger(__name__)

Status = Literal["stored", "duplicate", "event", "dead"]
DEVICE_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Received:
    """One message as it arrived: the raw body, its MQTT topic or webhook event."""

    integration: str
    body: bytes
    topic: str | None = None
    event: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Outcome:
    """What became of one message."""

    status: Status
    detail: str = ""
    observations: int = 0
    dead_letter: int | None = None

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"status": self.status, "observations": self.observations}
        if self.detail:
            shown["detail"] = self.detail
        if self.dead_letter is not None:
            shown["dead_letter"] = self.dead_letter
        return shown


@dataclass
class _Item:
    """One message on its way through a batch."""

    index: int
    received: Received
    message: Uplink | Event | None = None
    problem: str | None = None
    #: When retrying a dead letter: its id (a new failure updates it, success drops it).
    letter: int | None = None


@dataclass
class _Ready:
    """An uplink with its device and checked values, waiting for deduplication."""

    item: _Item
    uplink: Uplink
    device: Device
    values: list[tuple[Target, Any]]
    key: str = ""


class LorawanIngest:
    """Turns batches of received messages into stored Observations, for every integration.

    Registered devices are remembered for ``DEVICE_CACHE_SECONDS`` (only the writer thread
    uses them): registry changes made through this process take effect at once (``forget``),
    changes made by another process within that time.
    """

    def __init__(self, store: Store, integrations: list[LorawanIntegration]) -> None:
        self.store = store
        self.integrations = {i.name: i for i in integrations}
        self._devices: dict[str, Device] = {}
        self._devices_since = time.monotonic()

    def forget(self) -> None:
        """Drop the remembered devices (after a registry change, or a failed batch)."""
        self._devices = {}

    def devices(self, connection: Connection, euis: set[str]) -> dict[str, Device]:
        """The registered devices among ``euis``: remembered, or looked up together."""
        if time.monotonic() - self._devices_since > DEVICE_CACHE_SECONDS:
            self._devices, self._devices_since = {}, time.monotonic()
        known = self._devices
        missing = euis - known.keys()
        if missing:
            known.update(registry.load_devices(connection, missing))
        return {eui: known[eui] for eui in euis if eui in known}

    # --- ways in ---------------------------------------------------------------------------

    def submit(self, messages: list[Received]) -> Future[list[Outcome]]:
        """Queue a batch with the writer from any thread; resolves after its commit.
        Batches queued one after another are stored together, as one."""
        return self.store.queue_write(self.batch(messages))

    async def ingest(self, messages: list[Received]) -> list[Outcome]:
        """Store a batch; returns after its commit."""
        return await self.store.write(self.batch(messages))

    def batch(self, messages: list[Received]) -> IngestWrite:
        """The write for one batch: parsed here, in the caller's thread, stored in the
        writer's."""
        items = [self._parsed(index, received, None) for index, received in enumerate(messages)]
        return IngestWrite(self, items)

    def retry(self, letter_ids: list[int]) -> Callable[[Connection], list[Outcome]]:
        """The write that processes dead letters again: one stored now (or found stored
        already) is dropped; one that fails again keeps the new reason and counts the try."""

        def work(connection: Connection) -> list[Outcome]:
            items = []
            for index, letter_id in enumerate(letter_ids):
                row = deadletters.raw_letter(connection, letter_id)
                received = Received(
                    row.integration, bytes(row.payload), row.topic, row.event, row.received_at
                )
                items.append(self._parsed(index, received, letter_id))
            return self._store_robustly(connection, items)

        return work

    def _parsed(self, index: int, received: Received, letter: int | None) -> _Item:
        item = _Item(index, received, letter=letter)
        integration = self.integrations.get(received.integration)
        if integration is None:
            item.problem = f"no integration {received.integration!r} is configured"
            return item
        try:
            item.message = parse(
                integration.network, received.body, topic=received.topic, event=received.event
            )
        except FormatError as exc:
            item.problem = f"malformed: {exc}"
        return item

    # --- the transaction -------------------------------------------------------------------

    def _store_robustly(self, connection: Connection, items: list[_Item]) -> list[Outcome]:
        try:
            try:
                with connection.begin_nested():
                    return _Batch(self, connection, items).run()
            except IntegrityError:  # a Datastream or feature went away since: once more
                self.forget()
                with connection.begin_nested():
                    return _Batch(self, connection, items).run()
        except DBAPIError as exc:
            if exc.connection_invalidated or connection.invalidated:
                self.forget()
                raise
            failure: Exception = exc
        except Exception as exc:  # a bug or a surprise must cost one message, not the batch
            failure = exc
        self.forget()  # what the batch learnt of devices (new features…) was rolled back
        if len(items) == 1:
            return self._failed(connection, items, failure)
        log.warning("a LoRaWAN batch failed (%s); storing its messages one by one", failure)
        outcomes: list[Outcome] = []
        for item in items:
            outcomes += self._store_robustly(connection, [item])
        return outcomes

    def _failed(self, connection: Connection, items: list[_Item], exc: Exception) -> list[Outcome]:
        log.warning("a LoRaWAN message could not be stored: %r", exc)
        item = items[0]
        item.problem = f"could not be stored: {getattr(exc, 'message', None) or exc}"
        batch = _Batch(self, connection, [])
        outcome = batch.dead(item, item.problem)
        batch.flush_dead()
        return [outcome]


class IngestWrite:
    """One batch queued with the writer. Consecutive ones are merged (``run_batch``): a
    subscriber hands over what arrived since its last batch, and all that is waiting when
    the writer gets to it is stored with one set of statements."""

    batch_key = "lorawan-ingest"

    def __init__(self, core: LorawanIngest, items: list[_Item]) -> None:
        self.core = core
        self.items = items

    def __call__(self, connection: Connection) -> list[Outcome]:
        return self.core._store_robustly(connection, self.items)

    @classmethod
    def run_batch(cls, connection: Connection, writes: list[IngestWrite]) -> list[list[Outcome]]:
        merged = [item for write in writes for item in write.items]
        for index, item in enumerate(merged):  # unique in each write still, if redone alone
            item.index = index
        outcomes = writes[0].core._store_robustly(connection, merged)
        results, start = [], 0
        for write in writes:
            results.append(outcomes[start : start + len(write.items)])
            start += len(write.items)
        return results


class _Batch:
    """One batch inside its transaction."""

    def __init__(self, core: LorawanIngest, connection: Connection, items: list[_Item]) -> None:
        self.core = core
        self.connection = connection
        self.items = items
        self.outcomes: dict[int, Outcome] = {}
        self.dead_items: list[tuple[_Item, str, Outcome]] = []
        self.now = datetime.now(UTC)

    def run(self) -> list[Outcome]:
        uplinks, events = [], []
        for item in self.items:
            if item.problem is not None:
                self.dead(item, item.problem)
            elif isinstance(item.message, Uplink):
                uplinks.append(item)
            else:
                events.append(item)
        euis = {item.message.dev_eui for item in uplinks + events}  # type: ignore[union-attr]
        devices = self.core.devices(self.connection, euis)
        ready = [r for r in (self._prepare(item, devices) for item in uplinks) if r is not None]
        self._store(self._deduplicated(ready))
        for item in events:
            self._event(item)
        self.flush_dead()
        return [self.outcomes[item.index] for item in self.items]

    # --- uplinks ---------------------------------------------------------------------------

    def _prepare(self, item: _Item, devices: dict[str, Device]) -> _Ready | None:
        uplink = item.message
        assert isinstance(uplink, Uplink)
        integration = self.core.integrations[item.received.integration]
        device = devices.get(uplink.dev_eui)
        if device is None and not integration.auto_provision:
            self.dead(item, f"unknown device {uplink.dev_eui} (not registered; no auto_provision)")
            return None
        decoded, problem = _decode(uplink, device.decoder if device else integration.decoder)
        if device is None and problem is None:
            device, problem = self._provision(integration, uplink, decoded or {}, devices)
        if device is None or problem is not None:
            self.dead(item, problem or f"unknown device {uplink.dev_eui}")
            return None
        values, problem = _mapped(device, {**flatten(decoded or {}), **radio_values(uplink)})
        if problem is not None:
            self.dead(item, problem)
            return None
        return _Ready(item, uplink, device, values, _dedup_key(uplink))

    def _provision(
        self,
        integration: LorawanIntegration,
        uplink: Uplink,
        decoded: dict[str, Any],
        devices: dict[str, Device],
    ) -> tuple[Device | None, str | None]:
        """Register an unknown device with a Datastream per numeric field."""
        numeric = [n for n, v in flatten(decoded).items() if as_number(v) is not None]
        if not numeric:
            return None, f"unknown device {uplink.dev_eui}: its uplink has no numeric values"
        try:
            with self.connection.begin_nested():
                registry.create_device(
                    self.connection,
                    dev_eui=uplink.dev_eui,
                    name=uplink.device_name,
                    decoder=integration.decoder,
                    integration=integration.name,
                    dataset=integration.dataset,
                    fields=[FieldSpec(name) for name in sorted(numeric)],
                )
        except Exception as exc:  # provisioning errors (a missing dataset…) are dead letters
            reason = getattr(exc, "message", None) or str(exc)
            return None, f"unknown device {uplink.dev_eui}: auto-provisioning failed: {reason}"
        self.core.forget()
        devices.update(self.core.devices(self.connection, {uplink.dev_eui}))
        return devices[uplink.dev_eui], None

    def _deduplicated(self, ready: list[_Ready]) -> list[_Ready]:
        """The uplinks not stored before, in this batch or any earlier one."""
        unique: dict[tuple[str, str], _Ready] = {}
        for entry in ready:
            key = (entry.uplink.dev_eui, entry.key)
            if key in unique:
                self._duplicate(entry.item)
            else:
                unique[key] = entry
        if not unique:
            return []
        rows = [self._uplink_row(entry) for entry in unique.values()]
        inserted = uplinks.insert_new(self.connection, rows)
        fresh = []
        for key, entry in unique.items():
            if key in inserted:
                fresh.append(entry)
            else:
                self._duplicate(entry.item)
        return fresh

    def _uplink_row(self, entry: _Ready) -> dict[str, Any]:
        uplink, radio = entry.uplink, entry.uplink.radio
        return {
            "dev_eui": uplink.dev_eui,
            "dedup_key": entry.key,
            "integration": entry.item.received.integration,
            "received_at": uplink.received_at,
            "stored_at": self.now,
            "session": uplink.session,
            "f_cnt": uplink.f_cnt,
            "f_port": uplink.f_port,
            "rssi": radio.rssi,
            "snr": radio.snr,
            "spreading_factor": radio.spreading_factor,
            "gateway_count": radio.gateway_count,
            "frequency": radio.frequency,
        }

    def _store(self, fresh: list[_Ready]) -> None:
        """Load the Observations of the new uplinks: one bulk load for the batch."""
        new = []
        for entry in fresh:
            feature = registry.feature_of(self.connection, entry.device)
            time = entry.uplink.received_at
            new += [
                NewObservation(t.datastream_id, time, value, feature) for t, value in entry.values
            ]
            self.outcomes[entry.item.index] = Outcome("stored", observations=len(entry.values))
            if entry.item.letter is not None:
                deadletters.drop(self.connection, entry.item.letter)
        observations.load(self.connection, new, self.now)

    def _duplicate(self, item: _Item) -> None:
        self.outcomes[item.index] = Outcome("duplicate", "stored before")
        if item.letter is not None:
            deadletters.drop(self.connection, item.letter)

    # --- events and dead letters -----------------------------------------------------------

    def _event(self, item: _Item) -> None:
        event = item.message
        assert isinstance(event, Event)
        detail = event.kind
        if event.kind == "status":
            battery = event.details.get("battery_level")
            margin = event.details.get("margin")
            known = registry.update_status(
                self.connection, event.dev_eui, battery, margin, event.received_at
            )
            detail = "status kept" if known else "status of an unregistered device"
        self.outcomes[item.index] = Outcome("event", detail)
        if item.letter is not None:
            deadletters.drop(self.connection, item.letter)

    def dead(self, item: _Item, reason: str) -> Outcome:
        outcome = Outcome("dead", reason)
        self.outcomes[item.index] = outcome
        self.dead_items.append((item, reason, outcome))
        return outcome

    def flush_dead(self) -> None:
        """Keep the batch's dead letters (a retried one is updated, not added again)."""
        rows, waiting = [], []
        for item, reason, outcome in sorted(self.dead_items, key=lambda dead: dead[0].index):
            if item.letter is not None:
                deadletters.failed_again(self.connection, item.letter, reason)
                outcome.dead_letter = item.letter
                continue
            integration = self.core.integrations.get(item.received.integration)
            message = item.message
            rows.append(
                {
                    "integration": item.received.integration,
                    "network": integration.network if integration else "",
                    "topic": item.received.topic,
                    "event": item.received.event,
                    "payload": item.received.body,
                    "dev_eui": message.dev_eui if message is not None else None,
                    "reason": reason,
                    "received_at": item.received.received_at,
                }
            )
            waiting.append(outcome)
        for outcome, letter_id in zip(waiting, deadletters.add(self.connection, rows), strict=True):
            outcome.dead_letter = letter_id
        self.dead_items = []


def _decode(uplink: Uplink, decoder: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The network server's decoded payload if it sent one, else the decoder's; or why none."""
    if uplink.decoded is not None:
        return uplink.decoded, None
    if decoder is None:
        return None, f"device {uplink.dev_eui}: no decoded payload and no decoder"
    if uplink.f_port is None or not uplink.payload:
        return {}, None  # an empty frame (a MAC-only uplink, say) carries no values
    try:
        result = resolve_decoder(decoder).decode(uplink.f_port, uplink.payload)
    except Exception as exc:  # a decoder's fault is the uplink's dead letter, never a crash
        return None, f"decoder {decoder!r} failed: {exc!r}"
    if result.errors:
        return None, f"decoder {decoder!r}: {'; '.join(result.errors)}"
    return result.data, None


def _mapped(device: Device, values: dict[str, Any]) -> tuple[list[tuple[Target, Any]], str | None]:
    """The device's mapped values, checked against their Datastreams; or what is wrong."""
    for name, stream_id in device.missing.items():
        if name in values:
            return [], f"field {name!r}: its Datastream({stream_id}) no longer exists"
    mapped = []
    for name, target in device.targets.items():
        if name not in values or values[name] is None:
            continue
        value, problem = checked_value(name, values[name], target)
        if problem is not None:
            return [], problem
        mapped.append((target, value))
    return mapped, None


def _dedup_key(uplink: Uplink) -> str:
    """The network server's deduplication id where it gives one (the same whichever
    integration delivers the uplink), else session and frame counter: after a rejoin the
    session differs, so a frame counter starting again is not taken for a repetition."""
    if uplink.dedup_id:
        return f"id:{uplink.dedup_id}"
    if uplink.f_cnt is not None:
        return f"fcnt:{uplink.session or ''}:{uplink.f_cnt}"
    return f"at:{uplink.received_at.isoformat()}"
