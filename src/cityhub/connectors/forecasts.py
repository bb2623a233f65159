"""Forecasts are replaced, observations appended.

The framework adds a reading only when its Datastream holds nothing at that time, which is
right for measurements but would freeze a forecast at its first issue. Before a harvest is
saved, ``clear_revised`` deletes, within the time window a new forecast covers, the values
it revises or no longer lists; saving then adds the new values. A forecast that did not
change is left alone, so a second run changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from cityhub import datasets
from cityhub.connectors.base import Harvest, Reading
from cityhub.sensorthings import derived
from cityhub.sensorthings.values import result_columns
from cityhub.store import schema

#: The value of a Datastream's ``kind`` property that marks it as a forecast.
FORECAST = "forecast"


def clear_revised(
    connection: Connection, dataset: str, connector: str, harvests: list[Harvest]
) -> int:
    """Delete the stored forecast values the harvests revise; the number deleted."""
    found = datasets.dataset_by_slug(connection, dataset)
    if found is None:
        return 0
    streams = _forecast_streams(connection, int(found["id"]), connector)
    deleted: set[int] = set()
    removed = 0
    for harvest in harvests:
        for place in harvest.places:
            for series in place.series:
                datastream_id = streams.get((place.key, series.key))
                if datastream_id is None or not series.readings:
                    continue
                stale = _stale(connection, datastream_id, series.readings)
                if stale:
                    table = schema.observations
                    connection.execute(delete(table).where(table.c.id.in_(stale)))
                    deleted.add(datastream_id)
                    removed += len(stale)
    if deleted:
        derived.recompute_datastream_extents(connection, deleted)
    return removed


def _stale(connection: Connection, datastream_id: int, readings: list[Reading]) -> list[int]:
    """Stored values in the readings' time window that differ from them or that they lack."""
    wanted = {_utc(r.time): result_columns(r.value) for r in readings}
    table = schema.observations
    columns = ("result_type", "result_number", "result_string", "result_json")
    rows = connection.execute(
        select(table.c.id, table.c.phenomenon_time_start, *(table.c[c] for c in columns))
        .where(table.c.datastream_id == datastream_id)
        .where(table.c.phenomenon_time_start >= min(wanted))
        .where(table.c.phenomenon_time_start <= max(wanted))
    ).mappings()
    stale = []
    for row in rows:
        new = wanted.get(_utc(row["phenomenon_time_start"]))
        if new is None or any(_differs(row[c], new[c]) for c in columns):
            stale.append(int(row["id"]))
    return stale


def _differs(stored: object, new: object) -> bool:
    if isinstance(stored, float | int) and isinstance(new, float | int):
        return abs(float(stored) - float(new)) > 1e-9
    return stored != new


def _forecast_streams(
    connection: Connection, dataset_id: int, connector: str
) -> dict[tuple[str, str], int]:
    """The forecast Datastreams of the connector's Things: (place key, series key) → id."""
    things, streams = schema.things, schema.datastreams
    rows = connection.execute(
        select(streams.c.id, streams.c.properties, things.c.properties.label("thing"))
        .join(things, things.c.id == streams.c.thing_id)
        .where(things.c.dataset_id == dataset_id)
    )
    found = {}
    for datastream_id, properties, thing in rows:
        if not (isinstance(thing, dict) and thing.get("connector") == connector):
            continue
        if isinstance(properties, dict) and properties.get("kind") == FORECAST:
            found[(str(thing["sourceKey"]), str(properties["sourceKey"]))] = int(datastream_id)
    return found


def _utc(time: datetime) -> datetime:
    return time.astimezone(UTC) if time.tzinfo else time.replace(tzinfo=UTC)
