"""What the server derives and keeps current for clients (clause 10.2 and 8.2).

- an Observation without a FeatureOfInterest gets one derived from its Thing's Location,
  created once and reused;
- the phenomenonTime, resultTime and observedArea (the envelope of its features) of a
  Datastream or MultiDatastream cover its Observations;
- each Datastream counts its Observations and points at its latest one, so ``$count`` and
  "the latest value of every Datastream" are read, not computed (docs/performance.md).

An Observation belongs to one *stream*: a Datastream or a MultiDatastream. Its row names it
in exactly one of the columns ``datastream_id`` and ``multi_datastream_id``; here a stream is
addressed as a ``StreamRef``, ``(DATASTREAM, 7)`` or ``(MULTI_DATASTREAM, 3)``.

The statements on the ingest path are built once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from shapely import unary_union
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, bindparam, case, func, insert, select, update

from cityhub.errors import BadRequest
from cityhub.store import schema
from cityhub.store.types import JSONDocument, UTCDateTime

Body = dict[str, Any]


@dataclass(frozen=True, eq=False)
class Stream:
    """What Observations belong to: ``name`` is the entity type, ``table`` holds it (with its
    extents), ``key`` is the column of ``observations`` that points at it."""

    name: str
    table: Table
    key: str


DATASTREAM = Stream("Datastream", schema.datastreams, "datastream_id")
MULTI_DATASTREAM = Stream("MultiDatastream", schema.multi_datastreams, "multi_datastream_id")
STREAMS = (DATASTREAM, MULTI_DATASTREAM)

StreamRef = tuple[Stream, int]


def stream_of(row: Mapping[str, Any]) -> StreamRef:
    """The stream an Observation's columns name (callers have checked that exactly one is)."""
    for stream in STREAMS:
        stream_id = row.get(stream.key)
        if stream_id is not None:
            return stream, stream_id
    raise BadRequest("an Observation needs a Datastream or a MultiDatastream")


def current_feature(owner: Table) -> Any:
    """The feature derived from the current Location of the ``owner`` stream's Thing, if any.

    One level of correlation on purpose: SQLAlchemy correlates a subquery with the SELECT
    directly around it, so a deeper nesting would silently lose the stream.
    """
    links = schema.thing_locations
    features = schema.features_of_interest
    newest = links.alias("newest")
    current_location = (
        select(func.max(newest.c.location_id))
        .where(newest.c.thing_id == links.c.thing_id)
        .scalar_subquery()
    )
    return (
        select(features.c.id)
        .join(links, features.c.source_location_id == links.c.location_id)
        .where(links.c.thing_id == owner.c.thing_id, links.c.location_id == current_location)
        .limit(1)
        .scalar_subquery()
    )


def _context_query(stream: Stream) -> Any:
    """What an Observation needs of its stream: the result type(s) to check, the Thing, the
    feature derived from the Thing's Location (if already made) and the observedArea to grow.
    A MultiDatastream adds ``multi_observation_data_types``, one type per result element."""
    table, features = stream.table, schema.features_of_interest
    extra = [table.c.multi_observation_data_types] if stream is MULTI_DATASTREAM else []
    return (
        select(
            table.c.id,
            table.c.observation_type,
            *extra,
            table.c.thing_id,
            table.c.observed_area,
            features.c.id.label("feature_id"),
            features.c.feature,
        )
        .select_from(table.outerjoin(features, features.c.id == current_feature(table)))
        .where(table.c.id.in_(bindparam("ids", expanding=True)))
    )


# Built once: ingest runs them for every Observation (or batch of them).
_CONTEXTS = {stream: _context_query(stream) for stream in STREAMS}


def stream_contexts(connection: Connection, refs: Iterable[StreamRef]) -> dict[StreamRef, Any]:
    """The context rows (see ``_context_query``) of the given streams, one query per kind."""
    wanted: dict[Stream, set[int]] = {}
    for stream, stream_id in refs:
        wanted.setdefault(stream, set()).add(stream_id)
    contexts: dict[StreamRef, Any] = {}
    for stream, ids in wanted.items():
        for row in connection.execute(_CONTEXTS[stream], {"ids": sorted(ids)}):
            contexts[stream, row.id] = row
    return contexts


def feature_from_location(connection: Connection, thing_id: int) -> int:
    """The FeatureOfInterest derived from the Thing's current Location, created once, reused."""
    features = schema.features_of_interest
    link = schema.thing_locations
    location_id = connection.scalar(
        select(func.max(link.c.location_id)).where(link.c.thing_id == thing_id)
    )
    if location_id is None:
        raise BadRequest(
            "the Observation has no FeatureOfInterest and its Thing has no Location to derive "
            "one from: send a FeatureOfInterest or give the Thing a Location"
        )
    existing = connection.scalar(
        select(features.c.id).where(features.c.source_location_id == location_id).limit(1)
    )
    if existing is not None:
        return int(existing)
    location = schema.locations
    row = connection.execute(
        select(
            location.c.name,
            location.c.description,
            location.c.encoding_type,
            location.c.location,
            location.c.geom,
        ).where(location.c.id == location_id)
    ).one()
    return int(
        connection.execute(
            insert(features).values(
                name=row.name,
                description=row.description,
                encoding_type=row.encoding_type,
                feature=row.location,
                geom=row.geom,
                source_location_id=location_id,
            )
        ).inserted_primary_key[0]
    )


@dataclass
class Added:
    """New Observations of one stream, column by column: what widening its extents takes."""

    ids: list[int] = field(default_factory=list)
    starts: list[Any] = field(default_factory=list)
    ends: list[Any] = field(default_factory=list)
    result_times: list[Any] = field(default_factory=list)
    features: list[Any] = field(default_factory=list)

    def extend(self, other: Added) -> None:
        self.ids += other.ids
        self.starts += other.starts
        self.ends += other.ends
        self.result_times += other.result_times
        self.features += other.features


def extend_extents(
    connection: Connection, rows: list[Body], contexts: dict[StreamRef, Any] | None = None
) -> None:
    """``extend_stream_extents`` for rows of inserted Observations (with their ``id``)."""
    added: dict[StreamRef, Added] = {}
    for row in rows:
        ref = stream_of(row)
        mine = added.get(ref)
        if mine is None:
            mine = added[ref] = Added()
        mine.ids.append(row["id"])
        mine.starts.append(row["phenomenon_time_start"])
        mine.ends.append(row.get("phenomenon_time_end"))
        mine.result_times.append(row.get("result_time"))
        mine.features.append(row["feature_of_interest_id"])
    extend_stream_extents(connection, added, contexts)


def extend_stream_extents(
    connection: Connection, added: dict[StreamRef, Added], contexts: dict[StreamRef, Any] | None
) -> None:
    """Widen each stream's phenomenonTime, resultTime and observedArea to cover new
    Observations; a Datastream also counts them and moves its latest Observation. One UPDATE
    per stream, sent as one executemany per kind, in id order: concurrent writers lock stream
    rows in one order, never deadlocking.

    ``contexts`` (from ``stream_contexts``, if the caller has them) spare the lookups of
    observedArea and of the derived features' geometries.
    """
    contexts = contexts or {}
    geometries = {c.feature_id: c.feature for c in contexts.values() if c.feature_id}
    for stream in STREAMS:
        mine = {ref[1]: columns for ref, columns in added.items() if ref[0] is stream}
        if not mine:
            continue
        bounds = [_time_bounds(i, mine[i], stream is DATASTREAM) for i in sorted(mine)]
        if connection.dialect.name == "postgresql" and len(bounds) > 1:
            _extend_together(connection, stream, bounds)
        else:
            connection.execute(_EXTEND_TIMES[stream], bounds)
        areas = {ref[1]: c.observed_area for ref, c in contexts.items() if ref[0] is stream}
        _extend_observed_areas(connection, stream, mine, areas, geometries)


def _time_bounds(stream_id: int, added: Added, statistics: bool) -> Body:
    """The stream's new bounds, worked out a column at a time (a bulk load brings many)."""
    starts, ends = added.starts, added.ends
    if ends.count(None) == len(ends):
        end = max(starts)
    else:
        end = max(e if e is not None else s for s, e in zip(starts, ends, strict=True))
    result_times = added.result_times
    if result_times.count(None) == len(result_times):
        result_start = result_end = None
    else:
        known = [t for t in result_times if t is not None]
        result_start, result_end = min(known), max(known)
    bounds = {
        "target": stream_id,
        "start": min(starts),
        "end": end,
        "result_start": result_start,
        "result_end": result_end,
    }
    if statistics:
        # Latest: by phenomenonTime (start), then id, as ``$orderby`` breaks ties.
        latest_time, latest_id = max(zip(starts, added.ids, strict=True))
        bounds.update(added=len(starts), latest_id=latest_id, latest_time=latest_time)
    return bounds


def _extend_together(connection: Connection, stream: Stream, bounds: list[Body]) -> None:
    """``_EXTEND_TIMES`` for all the streams of a batch in one UPDATE (PostgreSQL): a batch
    from a large network touches thousands of Datastreams, and one statement per Datastream,
    even pipelined, costs more than the rest of the batch together. Each column of the
    bounds travels as one array. The rows are locked in id order first, as one UPDATE per
    stream in id order would, so concurrent writers never deadlock."""
    names = _ARRAY_COLUMNS[stream]
    arrays = {name: [row[name] for row in bounds] for name in names}
    execute = connection.exec_driver_sql
    execute(_LOCK_IN_ORDER[stream], {"target": arrays["target"]})
    execute(_EXTEND_TOGETHER[stream], arrays)


def _extend_observed_areas(
    connection: Connection,
    stream: Stream,
    by_stream: dict[int, Added],
    areas: dict[int, Any],
    geometries: dict[int, Any],
) -> None:
    """Grow observedArea where a feature lies outside it (rarely: features repeat)."""
    table, features = stream.table, schema.features_of_interest
    distinct = {stream_id: set(added.features) for stream_id, added in by_stream.items()}
    if connection.dialect.name == "postgresql" and not distinct.keys() <= areas.keys():
        distinct = _outgrown(connection, stream, distinct)
        if not distinct:
            return
    feature_ids = set().union(*distinct.values())
    if not feature_ids <= geometries.keys():
        geometries = dict(
            connection.execute(
                select(features.c.id, features.c.feature).where(features.c.id.in_(feature_ids))
            ).all()
        )
    if not distinct.keys() <= areas.keys():
        areas = dict(
            connection.execute(
                select(table.c.id, table.c.observed_area).where(table.c.id.in_(distinct))
            ).all()
        )
    changes = []
    for stream_id, stream_features in distinct.items():
        area = areas.get(stream_id)
        for feature_id in sorted(stream_features):
            area = grow_area(area, geometries[feature_id])
        if area != areas.get(stream_id):
            changes.append({"target": stream_id, "area": area})
    if changes:
        connection.execute(_SET_OBSERVED_AREA[stream], changes)


def _outgrown(
    connection: Connection, stream: Stream, by_stream: dict[int, set[int]]
) -> dict[int, set[int]]:
    """The streams with a feature whose geometry is not already their observedArea, asked
    of the database in one query (PostgreSQL) rather than reading every stream's area and
    every feature's geometry: in a batch of thousands of streams, almost none grow. A feature
    equal to the area leaves it as it is (``grow_area``), so the others decide."""
    pairs = [(i, f) for i, features in by_stream.items() for f in features]
    parameters = {"target": [p[0] for p in pairs], "feature": [p[1] for p in pairs]}
    found = connection.exec_driver_sql(_OUTGROWN[stream], parameters).scalars()
    return {stream_id: by_stream[stream_id] for stream_id in set(found)}


# A feature's geometry as ``grow_area`` takes it; one that is not an object changes nothing.
_OUTGROWN = {
    stream: "SELECT DISTINCT s.id FROM unnest(%(target)b::int8[], %(feature)b::int8[])"
    f' AS p(target, feature) JOIN "{stream.table.name}" AS s ON s.id = p.target'
    " JOIN features_of_interest AS f ON f.id = p.feature CROSS JOIN LATERAL (SELECT CASE"
    " WHEN f.feature->>'type' = 'Feature' THEN f.feature->'geometry' ELSE f.feature END"
    " AS geometry) AS g WHERE jsonb_typeof(g.geometry) = 'object'"
    " AND s.observed_area IS DISTINCT FROM g.geometry"
    for stream in STREAMS
}


def grow_area(area: dict[str, Any] | None, feature: Any) -> dict[str, Any] | None:
    """The smallest envelope covering ``area`` and the feature's geometry (GeoJSON in, out)."""
    geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
    if not isinstance(geometry, dict):
        return area
    if area is None or area == geometry:  # the usual case: one feature, seen again
        return geometry
    current, added = shape(area), shape(geometry)
    if current.covers(added):
        return area
    return _geojson(unary_union([current, added]).envelope)


def _geojson(geometry: BaseGeometry) -> dict[str, Any]:
    return orjson.loads(orjson.dumps(mapping(geometry)))


def _set_observed_area(table: Table) -> Any:
    return (
        update(table)
        .where(table.c.id == bindparam("target"))
        .values(observed_area=bindparam("area", type_=JSONDocument))
    )


_SET_OBSERVED_AREA = {stream: _set_observed_area(stream.table) for stream in STREAMS}


def _least(column: Any, value: Any) -> Any:
    """``value`` if it is earlier than ``column`` (or ``column`` is unset); NULL keeps it."""
    return case(
        (value.is_(None), column), (column.is_(None) | (column > value), value), else_=column
    )


def _greatest(column: Any, value: Any) -> Any:
    return case(
        (value.is_(None), column), (column.is_(None) | (column < value), value), else_=column
    )


def _time_parameter(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime())


def _extend_times(table: Table) -> Any:
    columns = table.c
    return (
        update(table)
        .where(columns.id == bindparam("target"))
        .values(
            phenomenon_time_start=_least(columns.phenomenon_time_start, _time_parameter("start")),
            phenomenon_time_end=_greatest(columns.phenomenon_time_end, _time_parameter("end")),
            result_time_start=_least(columns.result_time_start, _time_parameter("result_start")),
            result_time_end=_greatest(columns.result_time_end, _time_parameter("result_end")),
        )
    )


def _newer_than_latest() -> Any:
    """Whether the batch's latest Observation (``latest_time``, ``latest_id``) is newer than
    the Datastream's."""
    columns = schema.datastreams.c
    time, current = _time_parameter("latest_time"), columns.latest_phenomenon_time
    return (
        current.is_(None)
        | (current < time)
        | ((current == time) & (columns.latest_observation_id < bindparam("latest_id")))
    )


def _extend_datastream() -> Any:
    """The times, and the statistics a Datastream keeps: its count grows by the batch's
    size, its latest Observation moves if the batch's is newer. (SET expressions all see the
    row as it was, so both CASEs ask the same question.)"""
    columns = schema.datastreams.c
    return _extend_times(schema.datastreams).values(
        observation_count=columns.observation_count + bindparam("added"),
        latest_observation_id=case(
            (_newer_than_latest(), bindparam("latest_id")), else_=columns.latest_observation_id
        ),
        latest_phenomenon_time=case(
            (_newer_than_latest(), _time_parameter("latest_time")),
            else_=columns.latest_phenomenon_time,
        ),
    )


_EXTEND_TIMES = {
    DATASTREAM: _extend_datastream(),
    MULTI_DATASTREAM: _extend_times(schema.multi_datastreams),
}


# The set-based form of ``_EXTEND_TIMES`` on PostgreSQL. LEAST and GREATEST skip NULLs, as
# ``_least`` and ``_greatest`` do; the CASEs are ``_newer_than_latest``.
_TIME_ARRAYS = {
    "target": "int8",
    "start": "timestamptz",
    "end": "timestamptz",
    "result_start": "timestamptz",
    "result_end": "timestamptz",
}
_STATISTICS_ARRAYS = {"added": "int8", "latest_id": "int8", "latest_time": "timestamptz"}
_NEWER = (
    "(s.latest_phenomenon_time IS NULL OR s.latest_phenomenon_time < b.latest_time"
    " OR (s.latest_phenomenon_time = b.latest_time AND s.latest_observation_id < b.latest_id))"
)
_TIME_SETS = [
    "phenomenon_time_start = LEAST(s.phenomenon_time_start, b.start)",
    'phenomenon_time_end = GREATEST(s.phenomenon_time_end, b."end")',
    "result_time_start = LEAST(s.result_time_start, b.result_start)",
    "result_time_end = GREATEST(s.result_time_end, b.result_end)",
]
_STATISTICS_SETS = [
    "observation_count = s.observation_count + b.added",
    f"latest_observation_id = CASE WHEN {_NEWER} THEN b.latest_id ELSE s.latest_observation_id END",
    f"latest_phenomenon_time = CASE WHEN {_NEWER} THEN b.latest_time"
    " ELSE s.latest_phenomenon_time END",
]


def _extend_together_statement(stream: Stream) -> tuple[dict[str, str], str]:
    arrays = dict(_TIME_ARRAYS)
    sets = list(_TIME_SETS)
    if stream is DATASTREAM:
        arrays.update(_STATISTICS_ARRAYS)
        sets += _STATISTICS_SETS
    unnest = ", ".join(f"%({name})b::{kind}[]" for name, kind in arrays.items())
    columns = ", ".join(f'"{name}"' for name in arrays)
    statement = (
        f'UPDATE "{stream.table.name}" AS s SET {", ".join(sets)} '
        f"FROM unnest({unnest}) AS b({columns}) WHERE s.id = b.target"
    )
    return arrays, statement


_ARRAY_COLUMNS = {stream: tuple(_extend_together_statement(stream)[0]) for stream in STREAMS}
_EXTEND_TOGETHER = {stream: _extend_together_statement(stream)[1] for stream in STREAMS}
# FOR NO KEY UPDATE is the lock the UPDATE takes: it does not block the foreign-key checks
# of Observations being inserted meanwhile.
_LOCK_IN_ORDER = {
    stream: f'SELECT count(*) FROM (SELECT 1 FROM "{stream.table.name}" '
    "WHERE id = ANY(%(target)b::int8[]) ORDER BY id FOR NO KEY UPDATE) AS locked"
    for stream in STREAMS
}


def recompute_extents(connection: Connection, refs: Iterable[StreamRef]) -> None:
    """Recompute phenomenonTime, resultTime and observedArea of streams whose Observations
    changed or went away (or were bulk loaded); of a Datastream also its Observation count
    and latest Observation.

    The stream rows are locked first: an ingest committing meanwhile in another process then
    either is already visible here or waits, and adds to what is computed here.
    """
    refs = list(refs)
    for stream in STREAMS:
        ids = sorted({stream_id for kind, stream_id in refs if kind is stream})
        if not ids:
            continue
        table = stream.table
        connection.execute(select(table.c.id).where(table.c.id.in_(ids)).with_for_update())
        for stream_id in ids:
            values = _recomputed(connection, stream, stream_id)
            connection.execute(update(table).where(table.c.id == stream_id).values(values))


def _recomputed(connection: Connection, stream: Stream, stream_id: int) -> Body:
    """What ``recompute_extents`` writes for one stream, from its Observations."""
    observations = schema.observations
    features = schema.features_of_interest
    mine = observations.c[stream.key] == stream_id
    bounds = connection.execute(
        select(
            func.min(observations.c.phenomenon_time_start),
            func.max(
                func.coalesce(
                    observations.c.phenomenon_time_end, observations.c.phenomenon_time_start
                )
            ),
            func.min(observations.c.result_time),
            func.max(observations.c.result_time),
            func.count(),
        ).where(mine)
    ).one()
    area = None
    used = select(observations.c.feature_of_interest_id).where(mine).distinct()
    for (feature,) in connection.execute(
        select(features.c.feature).where(features.c.id.in_(used)).order_by(features.c.id)
    ):
        area = grow_area(area, feature)
    values = {
        "phenomenon_time_start": bounds[0],
        "phenomenon_time_end": bounds[1],
        "result_time_start": bounds[2],
        "result_time_end": bounds[3],
        "observed_area": area,
    }
    if stream is DATASTREAM:
        latest = connection.execute(
            select(observations.c.id, observations.c.phenomenon_time_start)
            .where(mine)
            .order_by(observations.c.phenomenon_time_start.desc(), observations.c.id.desc())
            .limit(1)
        ).first()
        values.update(
            observation_count=bounds[4],
            latest_observation_id=latest[0] if latest else None,
            latest_phenomenon_time=latest[1] if latest else None,
        )
    return values


def recompute_datastream_extents(connection: Connection, datastream_ids: set[int]) -> None:
    """``recompute_extents`` for Datastreams given by id (bulk loaders know only those)."""
    recompute_extents(connection, [(DATASTREAM, i) for i in datastream_ids])


def forget_derived_features(connection: Connection, location_id: int) -> None:
    """A moved Location no longer describes features derived from it; derive anew next time."""
    features = schema.features_of_interest
    connection.execute(
        update(features)
        .where(features.c.source_location_id == location_id)
        .values(source_location_id=None)
    )
