"""What the server derives and keeps current for clients (clause 10.2 and 8.2).

- an Observation without a FeatureOfInterest gets one derived from its Thing's Location,
  created once and reused;
- a Datastream's phenomenonTime, resultTime and observedArea (the envelope of its features)
  cover its Observations;
- each Datastream counts its Observations and points at its latest one, so ``$count`` and
  "the latest value of every Datastream" are read, not computed (docs/performance.md).

The statements on the ingest path are built once.
"""

from __future__ import annotations

from typing import Any

import orjson
from shapely import unary_union
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, case, func, insert, select, update

from cityhub.errors import BadRequest
from cityhub.store import schema
from cityhub.store.types import JSONDocument, UTCDateTime

Body = dict[str, Any]


def current_feature() -> Any:
    """The feature derived from the current Location of the datastream's Thing, if any.

    One level of correlation on purpose: SQLAlchemy correlates a subquery with the SELECT
    directly around it, so a deeper nesting would silently lose the Datastream.
    """
    datastreams, links = schema.datastreams, schema.thing_locations
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
        .where(links.c.thing_id == datastreams.c.thing_id, links.c.location_id == current_location)
        .limit(1)
        .scalar_subquery()
    )


# Built once: ingest runs it for every Observation (or batch of them). What an Observation
# needs of its Datastream: the result type to check, the Thing, the feature derived from the
# Thing's Location (if already made) and the observedArea to grow.
_datastreams, _features = schema.datastreams, schema.features_of_interest
_DATASTREAM_CONTEXTS = (
    select(
        _datastreams.c.id,
        _datastreams.c.observation_type,
        _datastreams.c.thing_id,
        _datastreams.c.observed_area,
        _features.c.id.label("feature_id"),
        _features.c.feature,
    )
    .select_from(_datastreams.outerjoin(_features, _features.c.id == current_feature()))
    .where(_datastreams.c.id.in_(bindparam("ids", expanding=True)))
)


def datastream_contexts(connection: Connection, datastream_ids: set[int]) -> dict[int, Any]:
    """``_DATASTREAM_CONTEXTS`` rows by Datastream id."""
    rows = connection.execute(_DATASTREAM_CONTEXTS, {"ids": sorted(datastream_ids)})
    return {row.id: row for row in rows}


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


def extend_datastream_extents(
    connection: Connection, rows: list[Body], contexts: dict[int, Any] | None = None
) -> None:
    """Widen each Datastream's phenomenonTime, resultTime and observedArea to cover new
    Observations (rows of inserted Observations, with their ``id``), count them and move its
    latest Observation: one UPDATE per Datastream, sent as one executemany.

    ``contexts`` (from ``datastream_contexts``, if the caller has them) spare the lookups of
    observedArea and of the derived features' geometries.
    """
    by_datastream: dict[int, list[Body]] = {}
    for row in rows:
        by_datastream.setdefault(row["datastream_id"], []).append(row)
    parameters = []
    # In id order: concurrent writers lock Datastream rows in one order, never deadlocking.
    # (Observations of no Datastream have nothing to update here.)
    for datastream_id in sorted(d for d in by_datastream if d is not None):
        mine = by_datastream[datastream_id]
        result_times = [r["result_time"] for r in mine if r.get("result_time") is not None]
        latest = max(mine, key=_recency)
        parameters.append(
            {
                "target": datastream_id,
                "start": min(r["phenomenon_time_start"] for r in mine),
                "end": max(
                    r.get("phenomenon_time_end") or r["phenomenon_time_start"] for r in mine
                ),
                "result_start": min(result_times, default=None),
                "result_end": max(result_times, default=None),
                "added": len(mine),
                "latest_id": latest["id"],
                "latest_time": latest["phenomenon_time_start"],
            }
        )
    if parameters:
        connection.execute(_EXTEND_TIMES, parameters)
    contexts = contexts or {}
    areas = {c.id: c.observed_area for c in contexts.values()}
    geometries = {c.feature_id: c.feature for c in contexts.values() if c.feature_id}
    _extend_observed_areas(connection, by_datastream, areas, geometries)


def _extend_observed_areas(
    connection: Connection,
    by_datastream: dict[int, list[Body]],
    areas: dict[int, Any],
    geometries: dict[int, Any],
) -> None:
    """Grow observedArea where a feature lies outside it (rarely: features repeat)."""
    datastreams, features = schema.datastreams, schema.features_of_interest
    feature_ids = {r["feature_of_interest_id"] for rows in by_datastream.values() for r in rows}
    if not feature_ids <= geometries.keys():
        geometries = dict(
            connection.execute(
                select(features.c.id, features.c.feature).where(features.c.id.in_(feature_ids))
            ).all()
        )
    if not by_datastream.keys() <= areas.keys():
        areas = dict(
            connection.execute(
                select(datastreams.c.id, datastreams.c.observed_area).where(
                    datastreams.c.id.in_(by_datastream)
                )
            ).all()
        )
    changes = []
    for datastream_id, rows in by_datastream.items():
        area = areas.get(datastream_id)
        for feature_id in sorted({r["feature_of_interest_id"] for r in rows}):
            area = grow_area(area, geometries[feature_id])
        if area != areas.get(datastream_id):
            changes.append({"target": datastream_id, "area": area})
    if changes:
        connection.execute(_SET_OBSERVED_AREA, changes)


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


_SET_OBSERVED_AREA = (
    update(schema.datastreams)
    .where(schema.datastreams.c.id == bindparam("target"))
    .values(observed_area=bindparam("area", type_=JSONDocument))
)


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


def _recency(row: Body) -> tuple[Any, int]:
    """The order of "latest": phenomenonTime (start), then id, as ``$orderby`` breaks ties."""
    return row["phenomenon_time_start"], row["id"]


def _newer_than_latest() -> Any:
    """Whether the batch's latest Observation (``latest_time``, ``latest_id``) is newer than
    the Datastream's."""
    table = schema.datastreams
    time = _time_parameter("latest_time")
    current = table.c.latest_phenomenon_time
    return (
        current.is_(None)
        | (current < time)
        | ((current == time) & (table.c.latest_observation_id < bindparam("latest_id")))
    )


_EXTEND_TIMES = (
    update(schema.datastreams)
    .where(schema.datastreams.c.id == bindparam("target"))
    .values(
        # SET expressions all see the row as it was, so both CASEs ask the same question.
        observation_count=schema.datastreams.c.observation_count + bindparam("added"),
        latest_observation_id=case(
            (_newer_than_latest(), bindparam("latest_id")),
            else_=schema.datastreams.c.latest_observation_id,
        ),
        latest_phenomenon_time=case(
            (_newer_than_latest(), _time_parameter("latest_time")),
            else_=schema.datastreams.c.latest_phenomenon_time,
        ),
        phenomenon_time_start=_least(
            schema.datastreams.c.phenomenon_time_start, _time_parameter("start")
        ),
        phenomenon_time_end=_greatest(
            schema.datastreams.c.phenomenon_time_end, _time_parameter("end")
        ),
        result_time_start=_least(
            schema.datastreams.c.result_time_start, _time_parameter("result_start")
        ),
        result_time_end=_greatest(
            schema.datastreams.c.result_time_end, _time_parameter("result_end")
        ),
    )
)


def recompute_datastream_extents(connection: Connection, datastream_ids: set[int]) -> None:
    """Recompute phenomenonTime, resultTime, observedArea, the Observation count and the latest
    Observation after Observations changed or went away (or were bulk loaded).

    The Datastream rows are locked first: an ingest committing meanwhile in another process
    then either is already visible here or waits, and adds to what is computed here.
    """
    table = schema.datastreams
    ids = sorted(i for i in datastream_ids if i is not None)
    if not ids:
        return
    connection.execute(select(table.c.id).where(table.c.id.in_(ids)).with_for_update())
    for datastream_id in ids:
        connection.execute(
            update(table)
            .where(table.c.id == datastream_id)
            .values(_statistics(connection, datastream_id))
        )


def _statistics(connection: Connection, datastream_id: int) -> Body:
    """What ``recompute_datastream_extents`` writes for one Datastream, from its Observations."""
    observations = schema.observations
    mine = observations.c.datastream_id == datastream_id
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
    latest = connection.execute(
        select(observations.c.id, observations.c.phenomenon_time_start)
        .where(mine)
        .order_by(observations.c.phenomenon_time_start.desc(), observations.c.id.desc())
        .limit(1)
    ).first()
    area = None
    features = schema.features_of_interest
    used = select(observations.c.feature_of_interest_id).where(mine).distinct()
    for (feature,) in connection.execute(
        select(features.c.feature).where(features.c.id.in_(used)).order_by(features.c.id)
    ):
        area = grow_area(area, feature)
    return {
        "phenomenon_time_start": bounds[0],
        "phenomenon_time_end": bounds[1],
        "result_time_start": bounds[2],
        "result_time_end": bounds[3],
        "observed_area": area,
        "observation_count": bounds[4],
        "latest_observation_id": latest[0] if latest else None,
        "latest_phenomenon_time": latest[1] if latest else None,
    }


def forget_derived_features(connection: Connection, location_id: int) -> None:
    """A moved Location no longer describes features derived from it; derive anew next time."""
    features = schema.features_of_interest
    connection.execute(
        update(features)
        .where(features.c.source_location_id == location_id)
        .values(source_location_id=None)
    )
