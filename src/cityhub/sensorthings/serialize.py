"""Database rows to SensorThings JSON, driven by the entity model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from cityhub.sensorthings.model import BY_NAME, EntityType, Kind, Property
from cityhub.store import schema
from cityhub.timeutil import format_instant, format_time

Row = Mapping[str, Any]


def result_value(row: Row) -> Any:
    """The Observation result from its typed columns."""
    kind = row["result_type"]
    if kind == schema.RESULT_INTEGER:
        return int(row["result_number"])
    if kind == schema.RESULT_FLOAT:
        return row["result_number"]
    if kind == schema.RESULT_STRING:
        return row["result_string"]
    if kind == schema.RESULT_NULL:
        return None
    return row["result_json"]


def _reader(prop: Property) -> Callable[[Row], Any]:
    """A function reading the wire value of ``prop`` from a row, chosen once per property."""
    kind = prop.kind
    if kind is Kind.RESULT:
        return result_value
    if kind in (Kind.INTERVAL, Kind.TIME):
        start_column, end_column = prop.columns

        def read_time(row: Row) -> Any:
            start = row[start_column]
            return None if start is None else format_time(start, row[end_column])

        return read_time
    column = prop.column
    if kind is Kind.INSTANT:

        def read_instant(row: Row) -> Any:
            value = row[column]
            return None if value is None else format_instant(value)

        return read_instant
    return lambda row: row[column]


@cache
def _readers(entity_name: str) -> tuple[tuple[str, Callable[[Row], Any]], ...]:
    return tuple((p.name, _reader(p)) for p in BY_NAME[entity_name].properties)


def property_value(prop: Property, row: Row) -> Any:
    """The wire value of one property of a row."""
    return _reader(prop)(row)


def entity_links(entity: EntityType, entity_id: int, base: str) -> dict[str, Any]:
    """``@iot.id``, ``@iot.selfLink`` and the navigation links of one entity."""
    self_link = f"{base}/{entity.set_name}({entity_id})"
    links: dict[str, Any] = {"@iot.id": entity_id, "@iot.selfLink": self_link}
    for relation in entity.relations:
        links[f"{relation.name}@iot.navigationLink"] = f"{self_link}/{relation.name}"
    return links


def serialize(entity: EntityType, row: Row, base: str, select: frozenset[str] | None) -> dict:
    """One entity as a JSON object; ``select`` limits it to the named properties and links."""
    entity_id = row["id"]
    if select is None:
        out = entity_links(entity, entity_id, base)
        for name, read in _readers(entity.name):
            out[name] = read(row)
        return out
    out = {}
    if "id" in select or "@iot.id" in select:
        out["@iot.id"] = entity_id
    self_link = f"{base}/{entity.set_name}({entity_id})"
    if "@iot.selfLink" in select:
        out["@iot.selfLink"] = self_link
    for name, read in _readers(entity.name):
        if name in select:
            out[name] = read(row)
    for relation in entity.relations:
        if relation.name in select:
            out[f"{relation.name}@iot.navigationLink"] = f"{self_link}/{relation.name}"
    return out
