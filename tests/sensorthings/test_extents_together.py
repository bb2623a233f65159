"""A batch of Observations for many Datastreams at once (one UPDATE on PostgreSQL, as a
LoRaWAN batch from a large network makes) moves their extents and statistics exactly as
recomputing them from the Observations does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from cityhub.lorawan import observations
from cityhub.lorawan.observations import NewObservation
from cityhub.sensorthings import derived
from cityhub.store import schema

from .helpers import V, create_thing, created_id, datastream_body, feature_body, observation

_KEPT = (
    "observed_area",
    "phenomenon_time_start",
    "phenomenon_time_end",
    "result_time_start",
    "result_time_end",
    "observation_count",
    "latest_observation_id",
    "latest_phenomenon_time",
)


def _kept(hub: Any) -> dict[int, dict[str, Any]]:
    table = schema.datastreams
    statement = select(table.c.id, *(table.c[name] for name in _KEPT)).order_by(table.c.id)
    rows = hub.store.read_blocking(lambda c: c.execute(statement).all())
    return {row.id: dict(zip(_KEPT, row[1:], strict=True)) for row in rows}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_batch_of_many_datastreams_moves_what_recomputing_finds(hub):
    seeded = create_thing(
        hub,
        datastreams=[
            datastream_body("newer", [observation(1, "2024-06-01T00:00:00Z")]),
            datastream_body("tied", [observation(2, "2024-01-01T05:00:00Z")]),
            datastream_body("older", [observation(3, "2023-01-01T00:00:00Z")]),
            datastream_body("empty"),
        ],
    )
    newer, tied, older, empty = seeded.datastreams
    near = hub.store.read_blocking(
        lambda c: c.scalar(select(schema.observations.c.feature_of_interest_id).limit(1))
    )
    far = created_id(hub.post(f"{V}/FeaturesOfInterest", feature_body("far", (7.0, 51.0))))
    batch = [
        NewObservation(newer, _at("2024-03-01T00:00:00"), 10, near),  # the latest stays
        NewObservation(tied, _at("2024-01-01T05:00:00"), 11, near),  # same time, higher id
        NewObservation(older, _at("2024-02-01T00:00:00"), 12, near),
        NewObservation(older, _at("2024-02-02T00:00:00"), 13, far),  # the area grows
        NewObservation(empty, _at("2024-02-03T00:00:00"), 14, near),
    ]
    stored_at = _at("2025-01-01T00:00:00")
    before = _kept(hub)
    hub.store.write_blocking(lambda c: observations.load(c, batch, stored_at))
    moved = _kept(hub)
    refs = [(derived.DATASTREAM, i) for i in seeded.datastreams]
    hub.store.write_blocking(lambda c: derived.recompute_extents(c, refs))
    assert _kept(hub) == moved

    assert moved[newer]["latest_observation_id"] == before[newer]["latest_observation_id"]
    assert moved[newer]["phenomenon_time_start"] == _at("2024-03-01T00:00:00")
    assert moved[tied]["latest_observation_id"] > before[tied]["latest_observation_id"]
    assert moved[older]["latest_phenomenon_time"] == _at("2024-02-02T00:00:00")
    assert moved[older]["observation_count"] == 3
    assert moved[older]["observed_area"]["type"] == "Polygon"
    assert moved[newer]["observed_area"] == before[newer]["observed_area"]
    assert before[empty]["observed_area"] is None
    assert moved[empty]["observed_area"] == before[newer]["observed_area"]
    assert moved[empty]["result_time_start"] == stored_at
    assert moved[empty]["observation_count"] == 1
