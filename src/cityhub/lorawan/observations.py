"""Loading the Observations of a batch of uplinks: many Datastreams, few rows each.

The SensorThings bulk path (``sensorthings.ingest.load_observations``) is made for many
Observations of few Datastreams and costs something per Datastream. A batch of uplinks
from a large network is the other way round — a thousand devices, three Datastreams each,
one or two Observations per Datastream — so it is loaded here in one pass over the rows,
with the same building blocks: ids reserved up front, one bulk load (COPY /
executemany), and ``derived.extend_extents`` for the Datastreams' times, counts and latest
Observation.

Values were checked against their Datastreams' types already (``values.checked_value``,
with the types the registry remembered); a Datastream deleted since fails the load on its
foreign key, on which the ingest core forgets what it remembered and tries again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from cityhub.sensorthings import derived
from cityhub.sensorthings.values import result_columns
from cityhub.store import changes, schema
from cityhub.store.bulk import BulkLoader

_COLUMNS = (
    "id",
    "datastream_id",
    "phenomenon_time_start",
    "result_time",
    "result_type",
    "result_number",
    "result_string",
    "result_json",
    "feature_of_interest_id",
)


class NewObservation(NamedTuple):
    """One Observation to create (a tuple: thousands are made per batch)."""

    datastream_id: int
    phenomenon_time: datetime
    result: Any
    feature_of_interest_id: int


def load(connection: Connection, observations: list[NewObservation], stored_at: datetime) -> None:
    """Create ``observations`` (resultTime ``stored_at``) in one bulk load."""
    if not observations:
        return
    loader = BulkLoader(connection)
    ids = loader.reserve_ids(schema.observations, len(observations))
    results = [result_columns(o.result) for o in observations]
    times = loader.times([o.phenomenon_time for o in observations])
    result_times = loader.times([stored_at]) * len(observations)
    documents = loader.documents([r["result_json"] for r in results])
    rows = [
        (
            new_id,
            o.datastream_id,
            time,
            result_time,
            r["result_type"],
            r["result_number"],
            r["result_string"],
            document,
            o.feature_of_interest_id,
        )
        for new_id, o, time, result_time, r, document in zip(
            ids, observations, times, result_times, results, documents, strict=True
        )
    ]
    loader.load(schema.observations, _COLUMNS, rows)
    extents = [
        {
            "datastream_id": o.datastream_id,
            "id": new_id,
            "phenomenon_time_start": o.phenomenon_time,
            "phenomenon_time_end": None,
            "result_time": stored_at,
            "feature_of_interest_id": o.feature_of_interest_id,
        }
        for new_id, o in zip(ids, observations, strict=True)
    ]
    derived.extend_extents(connection, extents)
    changes.record_created(connection, "Observation", ids)
