"""Counters of the MQTT face, shown at ``/api/mqtt``: what arrived, what became of it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class MqttStats:
    received: int = 0  # messages on the create topics
    created: int = 0  # Observations committed from them
    rejected: int = 0  # malformed, invalid or not creatable; logged
    rows_rejected: int = 0  # rows of CreateObservations messages left out; each logged
    unstored: int = 0  # not stored for want of the database: unacknowledged, delivered again
    ignored: int = 0  # the hub's own notifications coming back on a create topic
    notifications: int = 0  # messages the hub published
    unnotified: int = 0  # committed changes not notified: too far behind (notify.MAX_BACKLOG)
    refused: int = 0  # publishes the embedded broker refused (no writer token)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}
