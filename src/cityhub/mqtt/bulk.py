"""``v1.1/CreateObservations``: many Observations in one MQTT message (a cityhub extension).

OGC 18-088 creates one Observation per MQTT message (clause 14.1) and many only over HTTP
(``POST CreateObservations``, clause 13). One Observation per message cannot keep up with a
bulk load: a single subscriber receives fewer messages per second than the database loads
rows, and each message pays the broker's and paho's per-message work twice (in and the
acknowledgement out). This topic takes exactly the body of ``POST CreateObservations``, so a
message of a thousand rows costs about what one row did; the rows go the HTTP bulk path's way
(``parse_create`` on the network thread, one ``ObservationLoad`` in the writer, loads queued
together sharing one COPY / executemany) and the message is acknowledged after the commit.

Rows are judged as over HTTP: a malformed body or an unknown Datastream rejects the message
(logged, counted, acknowledged); a row whose values do not fit is left out while the others
are stored, and since no answer goes back, each such row is logged with its group and row
number and counted as ``rows_rejected``.
"""

from __future__ import annotations

import logging
from typing import Any

from cityhub.mqtt.stats import MqttStats
from cityhub.sensorthings.data_array import parse_create
from cityhub.sensorthings.ingest import Loaded, ObservationLoad
from cityhub.store.access import ANYONE

log = logging.getLogger(__name__)


def load_for(body: Any) -> ObservationLoad:
    """The write for one message: checked as HTTP checks it (``BadRequest`` if malformed).

    A topic carries no token to the hub, so it writes as anyone reads: into Datastreams of
    restricted datasets it cannot create (they do not exist for it), as their data is never
    notified either."""
    return ObservationLoad(parse_create(body), ANYONE)


def report(topic: str, loaded: Loaded, stats: MqttStats) -> None:
    """After the commit: count what was stored, log and count each row that was not."""
    created = left_out = 0
    for group, (ids, reasons) in enumerate(zip(loaded.ids, loaded.reasons, strict=True)):
        for row, new_id in enumerate(ids):
            if new_id is not None:
                created += 1
                continue
            left_out += 1
            reason = reasons.get(row, "not valid")
            log.warning("MQTT %s: group %d, row %d not stored: %s", topic, group, row, reason)
    stats.add("created", created)
    if left_out:
        stats.add("rows_rejected", left_out)
