"""Live values: the latest Observation of each Datastream of a Thing, as feature properties.

A feature linked to a Thing (``features.thing_id``), and every feature of the sensors
collection, carries per observed property its latest value under the ObservedProperty's name
(``"free": 42``) and the details under ``live`` (value, unit, phenomenonTime, Datastream).
The same values are queryables, so ``free > 10`` filters on the current reading.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from cityhub.features.cql2 import Queryable
from cityhub.sensorthings.serialize import result_value
from cityhub.store import schema
from cityhub.store.access import Hidden
from cityhub.timeutil import format_instant

_datastreams = schema.datastreams
_properties = schema.observed_properties
_observations = schema.observations
_things = schema.things
_NUMERIC = (schema.RESULT_INTEGER, schema.RESULT_FLOAT)


def _joined() -> Any:
    return _datastreams.join(
        _properties, _properties.c.id == _datastreams.c.observed_property_id
    ).join(_observations, _observations.c.id == _datastreams.c.latest_observation_id)


def _visible_thing(thing_id: Any, hidden: Hidden) -> list[ColumnElement[bool]]:
    if not hidden:
        return []
    hidden_things = select(_things.c.id).where(_things.c.dataset_id.in_(sorted(hidden.datasets)))
    return [thing_id.not_in(hidden_things)]


def latest_values(
    connection: Connection, thing_ids: Iterable[int], hidden: Hidden
) -> dict[int, dict[str, dict[str, Any]]]:
    """Per Thing, per observed property name: the latest value, its unit and time."""
    ids = sorted(set(thing_ids))
    if not ids:
        return {}
    statement = (
        select(
            _datastreams.c.id,
            _datastreams.c.thing_id,
            _datastreams.c.name,
            _datastreams.c.unit_of_measurement,
            _properties.c.name.label("observed"),
            _observations.c.phenomenon_time_start,
            _observations.c.result_type,
            _observations.c.result_number,
            _observations.c.result_string,
            _observations.c.result_json,
        )
        .select_from(_joined())
        .where(_datastreams.c.thing_id.in_(ids), *_visible_thing(_datastreams.c.thing_id, hidden))
        .order_by(_observations.c.phenomenon_time_start, _datastreams.c.id)
    )
    values: dict[int, dict[str, dict[str, Any]]] = {}
    for row in connection.execute(statement).mappings():
        unit = row["unit_of_measurement"] or {}
        values.setdefault(row["thing_id"], {})[row["observed"]] = {
            "value": result_value(row),
            "unit": unit.get("symbol") or unit.get("name"),
            "phenomenonTime": format_instant(row["phenomenon_time_start"]),
            "datastream": row["id"],
            "datastreamName": row["name"],
        }
    return values


def merge(properties: dict[str, Any], live: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """A feature's properties with its live values (which win over stored ones of that name)."""
    if not live:
        return properties
    merged = {**properties, **{name: detail["value"] for name, detail in live.items()}}
    merged["live"] = live
    return merged


def _result_kinds(connection: Connection, thing_ids: Any, hidden: Hidden) -> Any:
    """The observed property names with a latest value among ``thing_ids`` (a subquery), each
    with the result types of those values."""
    statement = (
        select(_properties.c.name, _observations.c.result_type)
        .select_from(_joined())
        .where(
            _datastreams.c.thing_id.in_(thing_ids), *_visible_thing(_datastreams.c.thing_id, hidden)
        )
        .distinct()
    )
    return connection.execute(statement)


def live_names(connection: Connection, thing_ids: Any, hidden: Hidden) -> dict[str, str]:
    """The observed property names with a latest value among ``thing_ids`` (a subquery), and
    the JSON Schema type of their values: numbers and texts, the values a filter compares."""
    names: dict[str, str] = {}
    for name, kind in _result_kinds(connection, thing_ids, hidden):
        if kind in _NUMERIC:
            names[name] = "number"
        elif kind == schema.RESULT_STRING:
            names.setdefault(name, "string")
    return names


_JSON_TYPES = {
    schema.RESULT_INTEGER: "integer",
    schema.RESULT_FLOAT: "number",
    schema.RESULT_STRING: "string",
    schema.RESULT_BOOLEAN: "boolean",
    schema.RESULT_JSON: "object",
}


def live_types(connection: Connection, thing_ids: Any, hidden: Hidden) -> dict[str, str]:
    """Every observed property name with a latest value among ``thing_ids`` (a subquery), by
    name, and the JSON Schema type of its values (``widen`` where they differ)."""
    types: dict[str, str] = {}
    for name, kind in _result_kinds(connection, thing_ids, hidden):
        found = _JSON_TYPES.get(kind)
        if found is not None:
            types[name] = widen(types.get(name), found)
        else:
            types.setdefault(name, "string")  # only null values so far
    return dict(sorted(types.items()))


def widen(known: str | None, found: str) -> str:
    """The JSON Schema type of values of type ``known`` and of type ``found``: integers and
    numbers are numbers; texts among others are texts; otherwise the first type stays."""
    if known is None or known == found:
        return found
    if {known, found} <= {"integer", "number"}:
        return "number"
    return "string" if "string" in (known, found) else known


def live_queryable(thing_id: Any, name: str, kind: str, hidden: Hidden) -> Queryable:
    """The latest value of ``name`` of the Thing ``thing_id`` (a column) as a queryable."""
    value = _observations.c.result_number if kind == "number" else _observations.c.result_string
    latest = (
        select(value)
        .select_from(_joined())
        .where(
            _datastreams.c.thing_id == thing_id,
            _properties.c.name == name,
            *_visible_thing(_datastreams.c.thing_id, hidden),
        )
        .order_by(_observations.c.phenomenon_time_start.desc())
        .limit(1)
        .scalar_subquery()
    )
    return Queryable.column(latest, "number" if kind == "number" else "string")
