"""A MultiDatastream's Observations as a download: the times (``observations``), then one
column per component of the result array, in the MultiDatastream's order.

A component's column is named after its ObservedProperty (``component_names`` says how names
that would collide are told apart) and typed by its multiObservationDataType as a Datastream's
``result`` is by its observationType. The database takes each component out of the stored
array (``json_extract`` on SQLite, ``->>`` on PostgreSQL), so CSV rows still come out of the
cursor ready to write; GeoJSON reads the array whole and puts its members in the properties.

A MultiDatastream keeps extents but no count or latest Observation, so its validators count
the Observations in the range and take their greatest id (ids are never reused: an added
Observation raises it, a deleted one lowers the count): one range scan of the index
``observations (multi_datastream_id, phenomenon_time_start, id)``, not a read of the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    case,
    func,
    literal_column,
    select,
    type_coerce,
)

from cityhub.downloads import observations
from cityhub.downloads.observations import TIME_COLUMNS, Stream, TimeRange, Validators, ValueColumn
from cityhub.downloads.sql import json_text
from cityhub.sensorthings.operands import BOOLEAN, NUMBER, json_member
from cityhub.store import schema
from cityhub.store.access import Hidden

_observations = schema.observations
_multi = schema.multi_datastreams
_links = schema.multi_datastream_observed_properties
_properties = schema.observed_properties


@dataclass(frozen=True)
class MultiDatastream:
    id: int
    names: list[str]  # the columns' names, one per component
    data_types: list[str]


def produce(
    connection: Connection,
    multi_datastream_id: int,
    extension: str,
    hidden: Hidden,
    span: TimeRange,
) -> Iterator[Any]:
    """The download's ``Head``, then its bytes."""
    found, validators = find(connection, multi_datastream_id, hidden, span)
    stream = multi_datastream(found, connection.dialect.name)
    yield from observations.produce(connection, stream, extension, span, validators)


def find(
    connection: Connection, multi_datastream_id: int, hidden: Hidden, span: TimeRange
) -> tuple[MultiDatastream, Validators]:
    """The MultiDatastream if the reader may see it, and what its validators are made of:
    its components, its extents and the count and greatest id of its Observations in the
    range."""
    m = _multi.c
    row = observations.find(
        connection, _multi, multi_datastream_id, hidden, [m.multi_observation_data_types]
    )
    data_types = list(row.multi_observation_data_types)
    properties = property_names(connection, [multi_datastream_id]).get(multi_datastream_id, [])
    # The lists match in length (clause 12); a name missing all the same is left empty.
    names = component_names([*properties, *[""] * len(data_types)][: len(data_types)])
    found = MultiDatastream(multi_datastream_id, names, data_types)
    owner = _observations.c.multi_datastream_id
    counted = select(func.count(), func.max(_observations.c.id)).where(
        *observations.in_range(owner, multi_datastream_id, span)
    )
    return found, observations.validators(
        row, *names, *data_types, *connection.execute(counted).one()
    )


def property_names(connection: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    """The names of the ObservedProperties of MultiDatastreams, each in its components'
    order, by MultiDatastream id (one without any is left out)."""
    if not ids:
        return {}
    statement = (
        select(_links.c.multi_datastream_id, _properties.c.name)
        .select_from(_links.join(_properties, _properties.c.id == _links.c.observed_property_id))
        .where(_links.c.multi_datastream_id.in_(sorted(ids)))
        .order_by(_links.c.multi_datastream_id, _links.c.position)
    )
    names: dict[int, list[str]] = {}
    for multi_datastream_id, name in connection.execute(statement):
        names.setdefault(multi_datastream_id, []).append(name)
    return names


def component_names(names: Sequence[str]) -> list[str]:
    """The columns' names of components whose ObservedProperties have ``names``.

    A name is its ObservedProperty's, with control characters (line breaks, tabs) as spaces
    and runs of spaces as one; an empty one is ``component``. Where names are the same but
    for case — two components', or a component's and a time column's (``id``, ``resultTime``
    …) — each such component's gets ``_`` and its position in the result array (0 first):
    ``temperature_0``, ``temperature_2``; once more if that is another component's name.
    """
    cleaned = [_printable(name) or "component" for name in names]
    fixed = {column.casefold() for column in TIME_COLUMNS}
    counts = Counter(name.casefold() for name in cleaned)

    def clashes(name: str) -> bool:
        return counts[name.casefold()] > 1 or name.casefold() in fixed

    taken = fixed | {name.casefold() for name in cleaned if not clashes(name)}
    found = []
    for position, name in enumerate(cleaned):
        if clashes(name):
            name = f"{name}_{position}"
            while name.casefold() in taken:
                name = f"{name}_{position}"
            taken.add(name.casefold())
        found.append(name)
    return found


def _printable(name: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in name).split())


def multi_datastream(found: MultiDatastream, dialect: str) -> Stream:
    """The MultiDatastream's download: one column per component."""
    o = _observations.c
    columns = []
    for position, (name, data_type) in enumerate(zip(found.names, found.data_types, strict=True)):
        kind = observations.value_kind(data_type)
        csv = _csv_member(position, dialect)
        columns.append(ValueColumn(name, kind, csv, _arrow_member(position, kind, csv, dialect)))
    width = len(columns)

    def members(row: Sequence[Any]) -> list[Any]:
        return _members(row[0], width)

    return Stream(
        o.multi_datastream_id,
        found.id,
        f"multidatastream-{found.id}",
        columns,
        [json_text(o.result_json, dialect)],
        members,
    )


def _csv_member(position: int, dialect: str) -> ColumnElement[Any]:
    """The member at ``position`` of the result as CSV writes it, as ``datastreams`` writes a
    result: a number, a text, ``true``/``false``, an object or array as JSON text."""
    result = _observations.c.result_json
    if dialect == "postgresql":
        # ->> writes each as text: strings without quotes, null as NULL.
        return type_coerce(result.op("->>")(literal_column(str(position))), Text)
    path = f"$[{position}]"
    kind = func.json_type(result, path)
    # json_extract gives true and false as 1 and 0.
    return case((kind.in_(("true", "false")), kind), else_=func.json_extract(result, path))


def _arrow_member(
    position: int, kind: pa.DataType, csv: ColumnElement[Any], dialect: str
) -> ColumnElement[Any]:
    """The member as Parquet's column of ``kind`` reads it (NULL where it does not fit)."""
    result = _observations.c.result_json
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return json_member(result, (position,), NUMBER, dialect)
    if pa.types.is_boolean(kind):
        return json_member(result, (position,), BOOLEAN, dialect)
    return csv


def _members(document: Any, width: int) -> list[Any]:
    """The result array's ``width`` members as JSON values (null where it is shorter)."""
    members = orjson.loads(document) if isinstance(document, str | bytes) else document
    if not isinstance(members, list):
        return [None] * width
    return [*members[:width], *[None] * (width - len(members))]
