"""Datastream readings for tiles: latest values, extremes since a time, a value some time ago.

Every query keeps to Datastreams of Things in datasets the public may read (a screen is
public), reads the maintained latest Observation of each Datastream (an index lookup), and
the (datastream, time) index for ranges. With each latest value comes the interval the
Datastream is expected to report at, from the statistics it keeps (``cityhub.freshness``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from cityhub.freshness import expected_interval
from cityhub.sensorthings.model import BY_NAME
from cityhub.sensorthings.serialize import display_unit, result_value
from cityhub.sensorthings.visibility import visible
from cityhub.store import schema
from cityhub.store.access import Hidden

_ds, _obs, _things = schema.datastreams, schema.observations, schema.things


@dataclass(frozen=True)
class Reading:
    """The latest Observation of one Datastream, and how often the Datastream reports."""

    datastream: int
    name: str
    value: Any
    unit: str | None
    time: datetime
    interval: timedelta | None = None


def _visible(hidden: Hidden) -> list[ColumnElement[bool]]:
    return visible(BY_NAME["Datastream"], _ds, hidden)


def visible_datastreams(connection: Connection, ids: list[int], hidden: Hidden) -> set[int]:
    """Those of ``ids`` that exist and the public may read."""
    if not ids:
        return set()
    statement = select(_ds.c.id).where(_ds.c.id.in_(sorted(set(ids))), *_visible(hidden))
    return set(connection.scalars(statement))


def latest(connection: Connection, ids: list[int], hidden: Hidden) -> dict[int, Reading]:
    """The latest reading of each of ``ids`` that has one and is public."""
    if not ids:
        return {}
    statement = (
        select(
            _ds.c.id,
            _ds.c.name,
            _ds.c.unit_of_measurement,
            _ds.c.properties,
            _ds.c.phenomenon_time_start.label("first"),
            _ds.c.observation_count,
            _obs.c.phenomenon_time_start,
            _obs.c.result_type,
            _obs.c.result_number,
            _obs.c.result_string,
            _obs.c.result_json,
        )
        .select_from(_ds.join(_obs, _obs.c.id == _ds.c.latest_observation_id))
        .where(_ds.c.id.in_(sorted(set(ids))), *_visible(hidden))
    )
    readings = {}
    for row in connection.execute(statement).mappings():
        unit = row["unit_of_measurement"] or {}
        time = row["phenomenon_time_start"]
        interval, _ = expected_interval(
            row["properties"], row["first"], time, row["observation_count"] or 0
        )
        readings[row["id"]] = Reading(
            row["id"],
            row["name"],
            result_value(row),
            display_unit(unit) or None,
            time,
            interval,
        )
    return readings


def extremes(
    connection: Connection, datastream: int, since: datetime
) -> tuple[float | None, float | None, float | None]:
    """Minimum, maximum and sum of the numeric results from ``since`` on."""
    statement = select(
        func.min(_obs.c.result_number),
        func.max(_obs.c.result_number),
        func.sum(_obs.c.result_number),
    ).where(_obs.c.datastream_id == datastream, _obs.c.phenomenon_time_start >= since)
    low, high, total = connection.execute(statement).one()
    return low, high, total


def mean(connection: Connection, datastream: int, since: datetime, until: datetime) -> float | None:
    """The mean numeric result in ``[since, until]``."""
    statement = select(func.avg(_obs.c.result_number)).where(
        _obs.c.datastream_id == datastream,
        _obs.c.phenomenon_time_start >= since,
        _obs.c.phenomenon_time_start <= until,
    )
    value = connection.execute(statement).scalar()
    return None if value is None else float(value)


def value_at(connection: Connection, datastream: int, moment: datetime) -> float | None:
    """The numeric result of the last Observation at or before ``moment``."""
    statement = (
        select(_obs.c.result_number)
        .where(_obs.c.datastream_id == datastream, _obs.c.phenomenon_time_start <= moment)
        .order_by(_obs.c.phenomenon_time_start.desc())
        .limit(1)
    )
    return connection.execute(statement).scalar()


def latest_marks(connection: Connection, ids: list[int]) -> dict[int, tuple[Any, Any]]:
    """Each Datastream's latest Observation id and its Thing's dataset: what the live poller
    compares (a Thing moved into a restricted dataset must leave the screens at once)."""
    if not ids:
        return {}
    statement = (
        select(_ds.c.id, _ds.c.latest_observation_id, _things.c.dataset_id)
        .select_from(_ds.outerjoin(_things, _things.c.id == _ds.c.thing_id))
        .where(_ds.c.id.in_(sorted(ids)))
    )
    return {key: (latest, dataset) for key, latest, dataset in connection.execute(statement)}
