"""Database rows to SensorThings JSON, driven by the entity model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cityhub.sensorthings.model import EntityType, Kind, Property
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


def property_value(prop: Property, row: Row) -> Any:
    """The wire value of one property of a row."""
    kind = prop.kind
    if kind is Kind.RESULT:
        return result_value(row)
    if kind in (Kind.INTERVAL, Kind.TIME):
        start, end = (row[c] for c in prop.columns)
        return None if start is None else format_time(start, end)
    value = row[prop.column]
    if kind is Kind.INSTANT:
        return None if value is None else format_instant(value)
    return value


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
        for prop in entity.properties:
            out[prop.name] = property_value(prop, row)
        return out
    out = {}
    if "id" in select or "@iot.id" in select:
        out["@iot.id"] = entity_id
    self_link = f"{base}/{entity.set_name}({entity_id})"
    if "@iot.selfLink" in select:
        out["@iot.selfLink"] = self_link
    for prop in entity.properties:
        if prop.name in select:
            out[prop.name] = property_value(prop, row)
    for relation in entity.relations:
        if relation.name in select:
            out[f"{relation.name}@iot.navigationLink"] = f"{self_link}/{relation.name}"
    return out
