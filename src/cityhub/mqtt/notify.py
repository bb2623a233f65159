"""Receive-updates (clause 14.2): publish every committed create and update.

The writer hands over what each commit created or updated (``store.changes``); this runs in its
own thread, off every request path. It takes all changes queued so far, asks which topics
anyone listens to (exactly, with the embedded broker; unknown with an external one, which gets
the plain topics), reads the entities in one query per entity type, serialises them as the
REST face does (absolute selfLinks) and publishes. Nothing of a restricted dataset is
published: a topic cannot ask for a token.

Notifications are best-effort and bounded: a round is published only once the previous one
has gone out to the broker (``sent``), so the client never holds more than a round, and at
most ``MAX_BACKLOG`` committed changes wait for their turn; the changes of commits beyond
that are not notified, counted as ``unnotified`` and logged. Under a sustained bulk load
through an external broker (each message through one client) that is where memory stops.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, select

from cityhub.mqtt.stats import MqttStats
from cityhub.mqtt.topics import VERSION, Interest, change_topics
from cityhub.sensorthings.model import BY_NAME, EntityType
from cityhub.sensorthings.serialize import serialize
from cityhub.sensorthings.visibility import visible
from cityhub.store.access import ANYONE, hidden_datasets
from cityhub.store.changes import Change
from cityhub.store.database import Store

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], None]
_STOP = object()
_MAX_CHANGES = 5000  # changes handled per round: bounded reads, bounded memory
MAX_BACKLOG = 200_000  # committed changes waiting to be notified, at most
_SENT_WAIT_SECONDS = 0.5  # slices of the wait for a round to go out, to notice a stop
_LOG_EVERY_SECONDS = 60


class Notifier:
    """Publishes the changes of committed writes to their topics."""

    def __init__(
        self,
        store: Store,
        publish: Publish,
        interest: Callable[[], Interest],
        base_url: str,
        prefix: str,
        stats: MqttStats,
        sent: Callable[[float], bool] | None = None,
    ) -> None:
        """``sent``, for a broker behind a connection, waits up to a timeout for what has
        been published to have gone out to the broker, and says whether it has."""
        self._store = store
        self._publish = publish
        self._sent = sent
        self._interest = interest
        self._service_url = f"{base_url.rstrip('/')}/{VERSION}"
        self._prefix = f"{prefix}{VERSION}/"
        self._stats = stats
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="cityhub-mqtt-notify", daemon=True)
        self.idle = threading.Event()  # set while nothing is queued or being published
        self.idle.set()
        self._pending = 0
        self._backlog = 0  # changes queued, not yet taken
        self._rest: list[Change] = []  # of the commit the last round began
        self._pending_lock = threading.Lock()
        self._stopping = threading.Event()
        self._dropped = 0
        self._unnotified_logged: float | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop within a moment: what is queued is dropped, and counted in the log.

        Under a heavy load the notifications lag behind the commits (an external broker takes
        each through one client), and the hub is stopping: publishing a backlog of minutes
        would only hold the stop up."""
        self._stopping.set()
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def on_commit(self, changes: list[Change]) -> None:
        """The store's commit listener: runs in the writer thread, so it only queues, or
        counts what the backlog has no room for."""
        with self._pending_lock:
            if self._backlog + len(changes) > MAX_BACKLOG:
                self._unnotified(len(changes))
                return
            self._backlog += len(changes)
            self._pending += 1
            self.idle.clear()
        self._queue.put(changes)

    def _unnotified(self, count: int) -> None:
        self._stats.add("unnotified", count)
        now, last = time.monotonic(), self._unnotified_logged
        if last is None or now - last >= _LOG_EVERY_SECONDS:
            self._unnotified_logged = now
            log.warning(
                "MQTT notifications lag %d changes behind the commits: the changes of new "
                "commits are not notified until they catch up (counted as unnotified)",
                self._backlog,
            )

    def _run(self) -> None:
        while True:
            changes, taken, stop = self._take()
            with self._pending_lock:
                self._backlog -= len(changes)
            if changes:
                try:
                    self._notify(changes)
                except Exception:  # e.g. the database briefly gone: these are lost, go on
                    log.exception("publishing %d MQTT notifications failed", len(changes))
                self._wait_sent()
            if self._stopping.is_set() and not stop:
                taken += self._drop_queued()
                stop = True
            with self._pending_lock:
                self._pending -= taken
                if self._pending == 0:
                    self.idle.set()
            if stop:
                if self._dropped:
                    log.warning(
                        "%d MQTT notifications of committed changes not published: the hub "
                        "is stopping",
                        self._dropped,
                    )
                return

    def _wait_sent(self) -> None:
        """Until the round has gone out to the broker, or the hub stops. While the broker is
        away the changes of new commits wait, up to the backlog's ceiling."""
        if self._sent is None:
            return
        while not self._stopping.is_set():
            if self._sent(_SENT_WAIT_SECONDS):
                return

    def _drop_queued(self) -> int:
        """Empty the queue (up to the stop) and the rest of a commit begun; the number of
        commits taken."""
        taken = 0
        if self._rest:
            self._dropped += len(self._rest)
            self._rest = []
            taken += 1
        while (item := self._queue.get()) is not _STOP:
            self._dropped += len(item)
            taken += 1
        return taken

    def _take(self) -> tuple[list[Change], int, bool]:
        """The next round: up to ``_MAX_CHANGES`` changes of the commits queued so far (a
        bulk load's commit is spread over rounds), the number of commits it completes, and
        whether to stop."""
        if not self._rest:
            first = self._queue.get()
            if first is _STOP:
                return [], 0, True
            self._rest = first
        changes: list[Change] = []
        taken = 0
        while True:
            room = _MAX_CHANGES - len(changes)
            changes.extend(self._rest[:room])
            self._rest = self._rest[room:]
            if self._rest:
                return changes, taken, False
            taken += 1
            if len(changes) >= _MAX_CHANGES:
                return changes, taken, False
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                return changes, taken, False
            if more is _STOP:
                return changes, taken, True
            self._rest = more

    def _notify(self, changes: list[Change]) -> None:
        interest = self._interest()
        if interest.empty:
            return
        by_entity: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            by_entity[change.entity].append(change)
        rows = self._store.read_blocking(lambda connection: _read_rows(connection, by_entity))
        sent = 0
        for name, entity_changes in by_entity.items():
            entity = BY_NAME[name]
            for index, change in enumerate(entity_changes):
                if self._stopping.is_set():
                    self._dropped += len(entity_changes) - index
                    break
                row = rows[name].get(change.id)
                if row is not None:  # deleted since: nothing to tell
                    sent += self._publish_change(entity, change, row, interest)
        self._stats.add("notifications", sent)

    def _publish_change(
        self, entity: EntityType, change: Change, row: Any, interest: Interest
    ) -> int:
        sent = 0
        full: bytes | None = None
        for path, property_name in change_topics(entity, change, row):
            topic = self._prefix + path
            if interest.wants(topic):
                if property_name is not None:
                    value = serialize(entity, row, self._service_url, frozenset([property_name]))
                    payload = orjson.dumps(value)
                else:
                    full = full or orjson.dumps(serialize(entity, row, self._service_url, None))
                    payload = full
                self._publish(topic, payload)
                sent += 1
            for selection in interest.selections(entity, topic):
                selected = serialize(entity, row, self._service_url, selection.names)
                self._publish(selection.topic, orjson.dumps(selected))
                sent += 1
        return sent


def _read_rows(
    connection: Connection, by_entity: dict[str, list[Change]]
) -> dict[str, dict[int, Any]]:
    """The current rows of the changed entities, one query per entity type. Entities in a
    restricted dataset are left out: a topic has no token to show, so they are never sent."""
    hidden = hidden_datasets(connection, ANYONE)
    rows: dict[str, dict[int, Any]] = {}
    for name, entity_changes in by_entity.items():
        entity = BY_NAME[name]
        ids = sorted({change.id for change in entity_changes})
        found: dict[int, Any] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            statement = select(*entity.read_columns).where(
                entity.table.c.id.in_(chunk), *visible(entity, entity.table, hidden)
            )
            found.update((row["id"], row) for row in connection.execute(statement).mappings())
        rows[name] = found
    return rows
