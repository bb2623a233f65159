"""The LoRaWAN part of a running hub: the ingest core, the webhook's integrations and one
MQTT subscriber per integration with a ``broker_url``, started and stopped with the app."""

from __future__ import annotations

import logging
from typing import Any

from cityhub.lorawan.config import IntegrationError
from cityhub.lorawan.ingest import LorawanIngest
from cityhub.lorawan.subscriber import Subscriber
from cityhub.settings import Settings
from cityhub.store.database import Store

log = logging.getLogger(__name__)


class LorawanService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.settings = settings
        self.core = LorawanIngest(store, settings.lorawan)
        self.subscribers: dict[str, Subscriber] = {}
        self.problems: dict[str, str] = {}

    def start(self) -> None:
        """Start a subscriber per MQTT integration; one that cannot start is reported, and
        the others run."""
        for integration in self.settings.lorawan:
            if integration.broker_url is None:
                continue
            try:
                subscriber = Subscriber(integration, self.core)
                subscriber.start()
            except (IntegrationError, OSError, ValueError) as exc:
                self.problems[integration.name] = str(exc)
                log.error("LoRaWAN %s cannot start: %s", integration.name, exc)
                continue
            self.subscribers[integration.name] = subscriber

    def stop(self) -> None:
        for subscriber in self.subscribers.values():
            subscriber.stop()
        self.subscribers = {}

    def integrations(self) -> list[dict[str, Any]]:
        """Each integration's configuration (no secrets) and its subscriber's state."""
        shown = []
        for integration in self.settings.lorawan:
            entry = integration.describe()
            subscriber = self.subscribers.get(integration.name)
            if subscriber is not None:
                entry["subscriber"] = subscriber.status()
            if integration.name in self.problems:
                entry["problem"] = self.problems[integration.name]
            shown.append(entry)
        return shown
