"""The dataArray extension (clause 13): Observations as compact tables, in and out.

- ``POST /v1.1/CreateObservations`` takes groups, each naming its Datastream, the
  ``components`` (Observation properties) and ``dataArray`` rows of values in that order. It
  is the bulk ingest path: the body is checked and converted column by column here, then one
  write function loads every valid row in one go (``ingest.load_observations``). The answer
  lists each row's new selfLink, or ``"error"`` for a row that could not be created.
- ``$resultFormat=dataArray`` on an Observation collection answers the page grouped per
  Datastream, each group with its ``components`` and rows.

A group names a Datastream or a MultiDatastream (whose results are arrays, one value per
ObservedProperty).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cityhub.errors import BadRequest
from cityhub.sensorthings import columns, derived, reads
from cityhub.sensorthings.ingest import ObservationColumns
from cityhub.sensorthings.model import BY_NAME
from cityhub.sensorthings.options import QueryOptions
from cityhub.sensorthings.reads import Page, PageRequest
from cityhub.sensorthings.serialize import property_value

FORMAT = "dataArray"
ERROR = "error"
OBSERVATION = BY_NAME["Observation"]
FEATURE_OF_INTEREST = BY_NAME["FeatureOfInterest"]

#: Components a client may send, and what they become.
CREATE_COMPONENTS = (
    "phenomenonTime",
    "resultTime",
    "result",
    "resultQuality",
    "validTime",
    "parameters",
    "FeatureOfInterest/id",
)
_ALIASES = {"FeatureOfInterest/@iot.id": "FeatureOfInterest/id"}
_STREAMS = {stream.name: stream for stream in derived.STREAMS}
_GROUP_KEYS = frozenset({*_STREAMS, "components", "dataArray", "dataArray@iot.count"})

#: Components of a read without ``$select``: every property of an Observation.
READ_COMPONENTS = ("id", *(p.name for p in OBSERVATION.properties))
_READABLE = (*READ_COMPONENTS, "FeatureOfInterest/id")
_READ_ALIASES = {"@iot.id": "id", **_ALIASES}


# --- CreateObservations ------------------------------------------------------------------


def parse_create(body: Any) -> list[ObservationColumns]:
    """The groups of a CreateObservations body, checked and converted column by column.

    A malformed request (not an array of groups, an unknown component, a row whose length
    differs from the components) is a 400 naming the group and row; a value that does not fit
    (a bad time, a result of the wrong kind) only rejects its row.
    """
    if not isinstance(body, list):
        raise BadRequest(
            'CreateObservations takes a JSON array of groups: [{"Datastream": {"@iot.id": 1}, '
            '"components": ["phenomenonTime", "result"], "dataArray": [[…], …]}, …]'
        )
    return [_parse_group(index, group) for index, group in enumerate(body)]


def _parse_group(index: int, group: Any) -> ObservationColumns:
    where = f"group {index}: "
    if not isinstance(group, dict):
        raise BadRequest(f"{where}must be a JSON object")
    unknown = sorted(set(group) - _GROUP_KEYS)
    if unknown:
        raise BadRequest(
            f"{where}unknown member {unknown[0]!r}; a group has Datastream (or "
            "MultiDatastream), components, dataArray (and optionally dataArray@iot.count)"
        )
    stream, stream_id = _stream_of(where, group)
    names = _components(where, group.get("components"))
    rows = _rows(where, group, len(names))
    parsed = ObservationColumns(stream_id, len(rows), {}, where=where, stream=stream)
    values = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {}
    for name in names:
        _convert(parsed, name, values.get(name, ()))
    if "phenomenonTime" not in names:
        parsed.columns["phenomenon_time_start"] = [datetime.now(UTC)] * len(rows)
    return parsed


def _stream_of(where: str, group: dict[str, Any]) -> derived.StreamRef:
    """The Datastream or MultiDatastream a group names (exactly one of them)."""
    named = [name for name in _STREAMS if name in group]
    if len(named) != 1:
        raise BadRequest(
            f'{where}name the Datastream as "Datastream": {{"@iot.id": <id>}} (or a '
            '"MultiDatastream"), one of them'
        )
    (name,) = named
    reference = group[name]
    if not isinstance(reference, dict) or "@iot.id" not in reference:
        raise BadRequest(f'{where}name the {name} as "{name}": {{"@iot.id": <id>}}')
    stream_id = columns.parse_id(reference["@iot.id"])
    if stream_id is None:
        raise BadRequest(f"{where}the {name}'s @iot.id must be an integer")
    if not BY_NAME[name].holds_id(stream_id):
        raise BadRequest(f"{where}{name}({stream_id}) does not exist")
    return _STREAMS[name], stream_id


def _components(where: str, names: Any) -> list[str]:
    if not isinstance(names, list) or not names:
        raise BadRequest(f"{where}components must be a non-empty array of property names")
    resolved = []
    for name in names:
        name = _ALIASES.get(name, name) if isinstance(name, str) else name
        if name not in CREATE_COMPONENTS:
            raise BadRequest(
                f"{where}unknown component {name!r}; allowed: {', '.join(CREATE_COMPONENTS)}"
            )
        if name in resolved:
            raise BadRequest(f"{where}component {name!r} given twice")
        resolved.append(name)
    if "result" not in resolved:
        raise BadRequest(f"{where}components must include 'result'")
    return resolved


def _rows(where: str, group: dict[str, Any], width: int) -> list[list[Any]]:
    rows = group.get("dataArray")
    if not isinstance(rows, list):
        raise BadRequest(f"{where}dataArray must be an array of rows")
    declared = group.get("dataArray@iot.count")
    if declared is not None and (type(declared) is not int or declared != len(rows)):
        raise BadRequest(
            f"{where}dataArray@iot.count is {declared!r} but dataArray has {len(rows)} rows"
        )
    if set(map(type, rows)) <= {list} and set(map(len, rows)) <= {width}:
        return rows
    for number, row in enumerate(rows):
        if not isinstance(row, list):
            raise BadRequest(f"{where}row {number} must be an array")
        if len(row) != width:
            raise BadRequest(f"{where}row {number} has {len(row)} values for {width} components")
    raise AssertionError("unreachable")  # pragma: no cover


def _convert(parsed: ObservationColumns, name: str, values: Any) -> None:
    """Convert one component's column into table columns; bad values reject their rows."""
    target = parsed.columns
    if name == "phenomenonTime":
        starts, ends, rejected = columns.times(values)
        if None in starts:
            now = datetime.now(UTC)
            starts = [now if s is None else s for s in starts]
        else:
            parsed.time_texts["phenomenon_time_start"] = values
        target["phenomenon_time_start"] = starts
        target["phenomenon_time_end"] = ends
    elif name == "resultTime":
        target["result_time"], rejected = columns.instants(values, nullable=True)
        parsed.time_texts["result_time"] = values
    elif name == "validTime":
        starts, ends, rejected = columns.times(values, interval_only=True)
        target["valid_time_start"], target["valid_time_end"] = starts, ends
    elif name == "result":
        typed, rejected = columns.results(values)
        target.update(typed)
    elif name == "resultQuality":
        target["result_quality"], rejected = columns.documents(values, objects_only=False)
    elif name == "parameters":
        target["parameters"], rejected = columns.documents(values, objects_only=True)
    else:  # FeatureOfInterest/id
        ids, rejected = columns.references(values, FEATURE_OF_INTEREST.holds_id)
        target["feature_of_interest_id"] = ids
    parsed.reject(rejected, f"its {name} is not valid")


def created_links(ids: list[list[int | None]], url: str) -> list[str]:
    """The answer to CreateObservations: selfLinks in request order, ``"error"`` for gaps."""
    prefix = f"{url}/{OBSERVATION.set_name}("
    return [ERROR if i is None else f"{prefix}{i})" for group in ids for i in group]


# --- $resultFormat=dataArray -------------------------------------------------------------


def check_result_format(value: str) -> None:
    """Only ``dataArray`` is a result format besides the default."""
    if value != FORMAT:
        raise BadRequest(f"$resultFormat must be '{FORMAT}', got {value!r}")


def read_page(request: PageRequest) -> tuple[Page, list[dict[str, Any]]]:
    """A page of Observations as dataArray groups, one per Datastream in order of appearance."""
    connection, backend, target, options, paging, url = request
    if target.entity is not OBSERVATION or target.single:
        raise BadRequest(
            f"$resultFormat={FORMAT} applies to collections of Observations, e.g. "
            "/Observations or /Datastreams(1)/Observations"
        )
    if options.expand:
        raise BadRequest(f"$expand cannot be combined with $resultFormat={FORMAT}")
    names = _read_components(options)
    page = reads.read_collection(connection, backend, target, replace(options, select=None), paging)
    readers = [_reader(name) for name in names]
    groups: dict[tuple[str, int], list[list[Any]]] = {}
    for record in page.records:
        row = record.row
        groups.setdefault(_group_key(row), []).append([read(row) for read in readers])
    body = [
        {
            f"{relation}@iot.navigationLink": f"{url}/{relation}s({key})",
            "components": names,
            "dataArray@iot.count": len(rows),
            "dataArray": rows,
        }
        for (relation, key), rows in groups.items()
    ]
    return page, body


def _group_key(row: Any) -> tuple[str, int]:
    """The (relation, id) a row is grouped by: its Datastream or MultiDatastream."""
    stream, stream_id = derived.stream_of(row)
    return stream.name, stream_id


def _read_components(options: QueryOptions) -> list[str]:
    """The components a read answers with: every property, or those of ``$select``."""
    if options.select is None:
        return list(READ_COMPONENTS)
    names: list[str] = []
    for path in options.select:
        name = "/".join(path)
        name = _READ_ALIASES.get(name, name)
        if name not in _READABLE:
            raise BadRequest(
                f"cannot select {name!r} with $resultFormat={FORMAT}; choose from "
                f"{', '.join(_READABLE)}"
            )
        if name not in names:
            names.append(name)
    return names


def _reader(name: str) -> Any:
    if name == "id":
        return lambda row: row["id"]
    if name == "FeatureOfInterest/id":
        return lambda row: row["feature_of_interest_id"]
    prop = OBSERVATION.property_by_name[name]
    return lambda row: property_value(prop, row)
