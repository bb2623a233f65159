"""What the portal's pages read: Things, Datastreams with their current values, a dataset's
content. Every statement applies the access rule (``store.access``), so a restricted dataset's
Things are as absent here as in the APIs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, func, select

from cityhub.downloads.multi_datastreams import property_names
from cityhub.freshness import freshness
from cityhub.sensorthings.serialize import display_unit, result_value
from cityhub.store import schema
from cityhub.store.access import Hidden, in_visible_dataset

_things = schema.things
_datastreams = schema.datastreams
_multi_datastreams = schema.multi_datastreams
_observations = schema.observations
_properties = schema.observed_properties
_datasets = schema.datasets
_links = schema.thing_locations
_locations = schema.locations


def _thing_visible(hidden: Hidden) -> list[ColumnElement[bool]]:
    return [in_visible_dataset(_things.c.dataset_id, hidden)] if hidden else []


def thing(connection: Connection, thing_id: int, hidden: Hidden) -> dict[str, Any] | None:
    """A Thing with its dataset and the geometry of its first Location, or None if unseen."""
    first_location = (
        select(func.min(_links.c.location_id)).where(_links.c.thing_id == _things.c.id)
    ).scalar_subquery()
    statement = (
        select(
            _things.c.id,
            _things.c.name,
            _things.c.description,
            _things.c.properties,
            _datasets.c.slug.label("dataset"),
            _datasets.c.title.label("dataset_title"),
            _locations.c.geom,
        )
        .select_from(
            _things.outerjoin(_datasets, _datasets.c.id == _things.c.dataset_id).outerjoin(
                _locations, _locations.c.id == first_location
            )
        )
        .where(_things.c.id == thing_id, *_thing_visible(hidden))
    )
    row = connection.execute(statement).mappings().first()
    if row is None:
        return None
    found = dict(row)
    found["geometry"] = orjson.loads(row["geom"]) if row["geom"] else None
    return found


def _current_statement() -> Any:
    return select(
        _datastreams.c.id,
        _datastreams.c.name,
        _datastreams.c.description,
        _datastreams.c.unit_of_measurement,
        _datastreams.c.properties,
        _datastreams.c.phenomenon_time_start.label("first"),
        _datastreams.c.latest_phenomenon_time.label("latest"),
        _datastreams.c.observation_count,
        _datastreams.c.thing_id,
        _things.c.name.label("thing_name"),
        _properties.c.name.label("observed"),
        _properties.c.definition.label("observed_definition"),
        _observations.c.result_type,
        _observations.c.result_number,
        _observations.c.result_string,
        _observations.c.result_json,
    ).select_from(
        _datastreams.join(_things, _things.c.id == _datastreams.c.thing_id)
        .join(_properties, _properties.c.id == _datastreams.c.observed_property_id)
        .outerjoin(_observations, _observations.c.id == _datastreams.c.latest_observation_id)
    )


def _current(row: Any, now: datetime) -> dict[str, Any]:
    unit = row["unit_of_measurement"] or {}
    has_value = row["result_type"] is not None
    fresh = freshness(
        row["properties"], row["first"], row["latest"], row["observation_count"] or 0, now
    )
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "thing_id": row["thing_id"],
        "thing_name": row["thing_name"],
        "observed": row["observed"],
        "unit": display_unit(unit),
        "unit_name": unit.get("name") or "",
        "value": result_value(row) if has_value else None,
        "has_value": has_value,
        "time": row["latest"],
        "count": row["observation_count"] or 0,
        "interval": fresh.interval,
        "declared": fresh.declared,
        "stale": fresh.stale,
    }


def current_values(
    connection: Connection, thing_ids: list[int], hidden: Hidden, now: datetime
) -> list[dict[str, Any]]:
    """The Datastreams of some Things, each with its latest value and whether it is stale."""
    if not thing_ids:
        return []
    statement = (
        _current_statement()
        .where(_datastreams.c.thing_id.in_(sorted(set(thing_ids))), *_thing_visible(hidden))
        .order_by(_datastreams.c.thing_id, _datastreams.c.name, _datastreams.c.id)
    )
    return [_current(row, now) for row in connection.execute(statement).mappings()]


def datastream(
    connection: Connection, datastream_id: int, hidden: Hidden, now: datetime
) -> dict[str, Any] | None:
    """One Datastream with its latest value, or None if it does not exist for the reader."""
    statement = _current_statement().where(
        _datastreams.c.id == datastream_id, *_thing_visible(hidden)
    )
    row = connection.execute(statement).mappings().first()
    return None if row is None else _current(row, now)


def dataset_datastreams(connection: Connection, dataset_id: int, now: datetime) -> list[dict]:
    """The Datastreams of a dataset's Things (the caller has checked the dataset is visible)."""
    statement = (
        _current_statement()
        .where(_things.c.dataset_id == dataset_id)
        .order_by(_things.c.name, _datastreams.c.name, _datastreams.c.id)
    )
    return [_current(row, now) for row in connection.execute(statement).mappings()]


def dataset_multi_datastreams(connection: Connection, dataset_id: int) -> list[dict[str, Any]]:
    """The MultiDatastreams of a dataset's Things, each with its ObservedProperties' names in
    its order (the caller has checked the dataset is visible)."""
    m = _multi_datastreams.c
    statement = (
        select(m.id, m.name, m.thing_id, _things.c.name.label("thing_name"))
        .select_from(_multi_datastreams.join(_things, _things.c.id == m.thing_id))
        .where(_things.c.dataset_id == dataset_id)
        .order_by(_things.c.name, m.name, m.id)
    )
    found = [dict(row) for row in connection.execute(statement).mappings()]
    names = property_names(connection, [multi["id"] for multi in found])
    for multi in found:
        multi["observed"] = names.get(multi["id"], [])
    return found
