"""Database rows to SensorThings JSON, driven by the entity model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from cityhub.sensorthings.model import BY_NAME, EntityType, Kind, Property, Relation
from cityhub.sensorthings.options import QueryOptions
from cityhub.store import schema
from cityhub.timeutil import format_instant

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


def display_unit(unit: Mapping[str, Any] | None) -> str:
    """How a unitOfMeasurement is shown beside a value (portal, screens): its symbol; for a
    UCUM annotation such as ``{spaces}``, its name."""
    unit = unit or {}
    symbol = unit.get("symbol") or ""
    if symbol.startswith("{"):
        return unit.get("name") or symbol.strip("{}")
    return symbol or unit.get("name") or ""


def wire_instant(value: datetime | str) -> str:
    """An instant as ``format_instant`` writes it, from a datetime or from SQLite's stored text
    (``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, see ``UTCDateTime``) without parsing it."""
    if value.__class__ is str:
        text: str = value  # type: ignore[assignment]
        if len(text) == 26 and text[19] == ".":
            fraction = text[20:].rstrip("0")
            if fraction:
                return f"{text[:10]}T{text[11:19]}.{fraction}Z"
            return f"{text[:10]}T{text[11:19]}Z"
        value = datetime.fromisoformat(text).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    if value.utcoffset() == _ZERO:
        text = value.isoformat()[:-6]  # without "+00:00"
        return f"{text.rstrip('0')}Z" if value.microsecond else f"{text}Z"
    return format_instant(value)


_ZERO = timedelta(0)


def _reader(prop: Property) -> Callable[[Row], Any]:
    """A function reading the wire value of ``prop`` from a row, chosen once per property."""
    kind = prop.kind
    if kind is Kind.RESULT:
        return result_value
    if kind in (Kind.INTERVAL, Kind.TIME):
        start_column, end_column = prop.columns

        def read_time(row: Row) -> Any:
            start = row[start_column]
            if start is None:
                return None
            end = row[end_column]
            if end is None:
                return wire_instant(start)
            return f"{wire_instant(start)}/{wire_instant(end)}"

        return read_time
    column = prop.column
    if kind is Kind.INSTANT:

        def read_instant(row: Row) -> Any:
            value = row[column]
            return None if value is None else wire_instant(value)

        return read_instant
    return lambda row: row[column]


def property_value(prop: Property, row: Row) -> Any:
    """The wire value of one property of a row, as Python data (documents parsed)."""
    value = _reader(prop)(row)
    if isinstance(value, orjson.Fragment):
        return orjson.loads(orjson.dumps(value))
    return value


# What serialising one entity takes, worked out once per entity type and $select: which of
# the id and self link go out, navigation link keys with their suffixes, (wire name, column,
# reader) per property, where a reader of None means the column value goes out as it is, and
# whether the links come after the properties (with $select) or before them.
_Links = tuple[tuple[str, str], ...]
_Properties = tuple[tuple[str, str, Callable[[Row], Any] | None], ...]


class Layout(NamedTuple):
    """The members of one entity as they go out, in order; ``json_sql`` follows it too."""

    with_id: bool
    with_self_link: bool
    links: _Links
    properties: _Properties
    links_last: bool


@lru_cache(maxsize=1024)
def layout(entity_name: str, select: frozenset[str] | None) -> Layout:
    entity = BY_NAME[entity_name]
    links = tuple(
        (f"{r.name}@iot.navigationLink", f"/{r.name}")
        for r in entity.relations
        if select is None or r.name in select
    )
    properties = tuple(
        (p.name, p.column, None if _as_stored(p) else _reader(p))
        for p in entity.properties
        if select is None or p.name in select
    )
    if select is None:
        return Layout(True, True, links, properties, links_last=False)
    with_id = "id" in select or "@iot.id" in select
    return Layout(with_id, "@iot.selfLink" in select, links, properties, links_last=True)


def _as_stored(prop: Property) -> bool:
    return prop.kind in (Kind.TEXT, Kind.OBJECT, Kind.ANY, Kind.GEOMETRY)


@lru_cache(maxsize=256)  # bounded: the values come from clients
def selected_names(select: tuple[tuple[str, ...], ...] | None) -> frozenset[str] | None:
    """The names a ``$select`` keeps (its paths' first segments), worked out once per value."""
    return None if select is None else frozenset(path[0] for path in select)


def serialize(entity: EntityType, row: Row, base: str, select: frozenset[str] | None) -> dict:
    """One entity as a JSON object; ``select`` limits it to the named properties and links.

    Rows read for an answer hold JSON documents as ``orjson.Fragment`` (their stored text,
    written out as it is) and times as stored (see ``wire_instant``).
    """
    entity_id = row["id"]
    self_link = f"{base}/{entity.set_name}({entity_id})"
    with_id, with_self_link, links, properties, links_last = layout(entity.name, select)
    out: dict[str, Any] = {}
    if with_id:
        out["@iot.id"] = entity_id
    if with_self_link:
        out["@iot.selfLink"] = self_link
    if not links_last:
        for key, suffix in links:
            out[key] = self_link + suffix
    for name, column, read in properties:
        out[name] = row[column] if read is None else read(row)
    if links_last:
        for key, suffix in links:
            out[key] = self_link + suffix
    return out


def next_link_parts(
    url: str, entity: EntityType, relation: Relation, options: QueryOptions, top: int
) -> tuple[str, str]:
    """The nextLink of an expanded collection of ``top`` items, before and after its parent's
    id: the next page, with the inner options but $top and $skip."""
    paging = f"$top={top}&$skip={(options.skip or 0) + top}"
    query = options.link_query
    after = f")/{relation.name}?{query}&{paging}" if query else f")/{relation.name}?{paging}"
    return f"{url}/{entity.set_name}(", after
