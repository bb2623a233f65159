"""The LoRaWAN part of a running hub: the ingest core, the webhook's integrations and one
MQTT subscriber per integration with a ``broker_url``, started and stopped with the app.

The integrations are those of ``cityhub.toml`` and those created through the admin API.
``reload`` reads them again and starts, restarts or stops subscribers to match; the admin
API calls it after each change, and a watcher calls it every ``RELOAD_SECONDS`` so that
changes made through another process take effect here too.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cityhub.lorawan import uplinks
from cityhub.lorawan.config import IntegrationError, LorawanIntegration
from cityhub.lorawan.ingest import LorawanIngest
from cityhub.lorawan.managed import Configured, effective_integrations, file_integrations
from cityhub.lorawan.subscriber import Subscriber
from cityhub.settings import Settings
from cityhub.store.database import Store

log = logging.getLogger(__name__)

#: How often a running hub looks for integrations changed through another process.
RELOAD_SECONDS = 5.0
#: How often it forgets uplinks older than ``lorawan_uplink_days``.
PRUNE_SECONDS = 3600.0


class LorawanService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.configured: list[Configured] = file_integrations(settings)
        self.core = LorawanIngest(store, settings.lorawan)
        self.subscribers: dict[str, Subscriber] = {}
        self.problems: dict[str, str] = {}
        #: The configuration each problem was found with: tried again only once it changes.
        self._failed: dict[str, LorawanIntegration] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start a subscriber per MQTT integration (one that cannot start is reported, and
        the others run) and the watcher for changes made elsewhere."""
        try:
            self.reload()
        except Exception as exc:  # the database may be away: the file's run, the rest follows
            log.warning("LoRaWAN integrations of the admin API not read yet: %s", exc)
            with self._lock:
                self._apply(file_integrations(self.settings))
        self._stopping.clear()
        self._watcher = threading.Thread(
            target=self._watch, name="cityhub-lorawan-config", daemon=True
        )
        self._watcher.start()

    def reload(self) -> None:
        """Read the effective integrations again and bring the subscribers in line."""
        with self._lock:  # read under the lock too: a stale read never overtakes a newer one
            configured = self.store.read_blocking(
                lambda c: effective_integrations(c, self.settings)
            )
            self._apply(configured)

    def _apply(self, configured: list[Configured]) -> None:
        """Use ``configured``: the ingest core's integrations, and subscribers to match."""
        wanted = {entry.integration.name: entry.integration for entry in configured}
        self.core.integrations = wanted
        self.configured = configured
        for name, subscriber in list(self.subscribers.items()):
            if wanted.get(name) != subscriber.integration:
                subscriber.stop()
                del self.subscribers[name]
                log.info("LoRaWAN %s: subscriber stopped (changed or removed)", name)
        for name in list(self._failed):
            if wanted.get(name) != self._failed[name]:
                del self._failed[name]
                self.problems.pop(name, None)
        for integration in wanted.values():
            if integration.broker_url is None or integration.name in self.subscribers:
                continue
            if integration.name not in self._failed:
                self._subscribe(integration)

    def _subscribe(self, integration: LorawanIntegration) -> None:
        try:
            subscriber = Subscriber(integration, self.core)
            subscriber.start()
        except (IntegrationError, OSError, ValueError) as exc:
            self.problems[integration.name] = str(exc)
            self._failed[integration.name] = integration
            log.error("LoRaWAN %s cannot start: %s", integration.name, exc)
            return
        self.subscribers[integration.name] = subscriber

    def _watch(self) -> None:
        next_prune = time.monotonic()
        while not self._stopping.wait(RELOAD_SECONDS):
            try:
                self.reload()
                if time.monotonic() >= next_prune:
                    self.prune_uplinks()
                    next_prune = time.monotonic() + PRUNE_SECONDS
            except Exception as exc:  # the database may be away for a moment; keep going
                log.warning("LoRaWAN integrations not reloaded: %s", exc)

    def prune_uplinks(self, now: datetime | None = None) -> int:
        """Forget stored uplinks older than ``lorawan_uplink_days`` (0: keep them all)."""
        days = self.settings.lorawan_uplink_days
        if not days:
            return 0
        before = (now or datetime.now(UTC)) - timedelta(days=days)
        forgotten = self.store.write_blocking(lambda c: uplinks.prune(c, before))
        if forgotten:
            log.info("LoRaWAN: forgot %d uplinks received before %s", forgotten, before)
        return forgotten

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(30)
            self._watcher = None
        with self._lock:
            for subscriber in self.subscribers.values():
                subscriber.stop()
            self.subscribers = {}

    def integrations(self) -> list[dict[str, Any]]:
        """Each integration's configuration (no secrets), where it comes from, and its
        subscriber's state."""
        shown = []
        for configured in self.configured:
            integration = configured.integration
            entry = {**integration.describe(), "source": configured.source}
            subscriber = self.subscribers.get(integration.name)
            if subscriber is not None:
                entry["subscriber"] = subscriber.status()
            if integration.name in self.problems:
                entry["problem"] = self.problems[integration.name]
            shown.append(entry)
        return shown
