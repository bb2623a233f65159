"""The ingest hot path: creating Observations, alone or many in one go.

Each POSTed Observation is queued with the writer as an ``ObservationCreate``. Alone it is an
ordinary create. When several are queued together, the writer hands them over as one batch:
one lookup of their Datastreams (and MultiDatastreams), one multi-row INSERT … RETURNING, one
time-range UPDATE per stream — a handful of statements instead of four per Observation. If any
of them is rejected, the writer redoes each alone, so the others still commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from cityhub.errors import BadRequest
from cityhub.sensorthings import derived, reads, writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.sensorthings.reads import Record
from cityhub.sensorthings.serialize import result_value
from cityhub.store import changes, schema

OBSERVATION = BY_NAME["Observation"]

_INSERT_RETURNING_IDS = insert(schema.observations).returning(
    schema.observations.c.id, sort_by_parameter_order=True
)


class ObservationCreate:
    """One ``POST …/Observations``; ``fixed`` holds the (Multi)Datastream named by the URL."""

    batch_key = "observation-create"

    def __init__(self, body: Any, fixed: dict[str, int]) -> None:
        self.body = body
        self.fixed = fixed

    def __call__(self, connection: Connection) -> Record:
        new_id = writes.create(connection, OBSERVATION, self.body, self.fixed)
        return reads.read_by_id(connection, OBSERVATION, new_id)

    @classmethod
    def run_batch(cls, connection: Connection, creates: list[ObservationCreate]) -> list[Record]:
        rows = [writes.plain_observation_columns(c.body, c.fixed) for c in creates]
        if any(row is None for row in rows):
            return [create(connection) for create in creates]
        return _insert_many(connection, rows)  # type: ignore[arg-type]


def _insert_many(connection: Connection, rows: list[dict[str, Any]]) -> list[Record]:
    refs = [derived.stream_of(row) for row in rows]
    contexts = derived.stream_contexts(connection, refs)
    features: dict[int, int] = {}
    for row, ref in zip(rows, refs, strict=True):
        context = contexts.get(ref)
        if context is None:
            raise BadRequest(f"{ref[0].name}({ref[1]}) does not exist")
        writes.check_observation_result(ref[0], context, result_value(row))
        if row["phenomenon_time_start"] is None:
            row["phenomenon_time_start"] = writes.now()
        thing_id = context.thing_id
        if context.feature_id is None and thing_id not in features:
            features[thing_id] = derived.feature_from_location(connection, thing_id)
        row["feature_of_interest_id"] = context.feature_id or features[thing_id]
    new_ids = connection.execute(_INSERT_RETURNING_IDS, rows).scalars().all()
    for row, new_id in zip(rows, new_ids, strict=True):
        row["id"] = new_id
    derived.extend_extents(connection, rows, contexts)
    changes.record_created(connection, OBSERVATION.name, list(new_ids))
    return [Record(row) for row in rows]
