"""What the server derives and keeps current for clients (clause 10.2 and 8.2).

- an Observation without a FeatureOfInterest gets one derived from its Thing's Location,
  created once and reused;
- a Datastream's phenomenonTime and resultTime cover its Observations.

The statements on the ingest path are built once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update

from cityhub.errors import BadRequest
from cityhub.store import schema
from cityhub.store.types import UTCDateTime

Body = dict[str, Any]


def current_feature() -> Any:
    """The feature derived from the current Location of the datastream's Thing, if any."""
    datastreams, links = schema.datastreams, schema.thing_locations
    features = schema.features_of_interest
    current_location = (
        select(func.max(links.c.location_id))
        .where(links.c.thing_id == datastreams.c.thing_id)
        .scalar_subquery()
    )
    return (
        select(features.c.id)
        .where(features.c.source_location_id == current_location)
        .limit(1)
        .scalar_subquery()
    )


# Built once: the hot path of ingest runs these for every Observation.
DATASTREAM_CONTEXT = select(
    schema.datastreams.c.observation_type,
    schema.datastreams.c.thing_id,
    current_feature().label("feature_id"),
).where(schema.datastreams.c.id == bindparam("datastream_id"))


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


def extend_datastream_times(connection: Connection, rows: list[Body]) -> None:
    """Widen each Datastream's phenomenonTime and resultTime to cover new Observations.

    One UPDATE per Datastream, sent as one executemany.
    """
    by_datastream: dict[int, list[Body]] = {}
    for row in rows:
        by_datastream.setdefault(row["datastream_id"], []).append(row)
    parameters = []
    for datastream_id, mine in by_datastream.items():
        result_times = [r["result_time"] for r in mine if r.get("result_time") is not None]
        parameters.append(
            {
                "target": datastream_id,
                "start": min(r["phenomenon_time_start"] for r in mine),
                "end": max(
                    r.get("phenomenon_time_end") or r["phenomenon_time_start"] for r in mine
                ),
                "result_start": min(result_times, default=None),
                "result_end": max(result_times, default=None),
            }
        )
    connection.execute(_EXTEND_TIMES, parameters)


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


_EXTEND_TIMES = (
    update(schema.datastreams)
    .where(schema.datastreams.c.id == bindparam("target"))
    .values(
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


def recompute_datastream_times(connection: Connection, datastream_ids: set[int]) -> None:
    """Recompute phenomenonTime/resultTime after Observations changed or went away."""
    observations = schema.observations
    table = schema.datastreams
    for datastream_id in datastream_ids:
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
            ).where(mine)
        ).one()
        connection.execute(
            update(table)
            .where(table.c.id == datastream_id)
            .values(
                phenomenon_time_start=bounds[0],
                phenomenon_time_end=bounds[1],
                result_time_start=bounds[2],
                result_time_end=bounds[3],
            )
        )


def forget_derived_features(connection: Connection, location_id: int) -> None:
    """A moved Location no longer describes features derived from it; derive anew next time."""
    features = schema.features_of_interest
    connection.execute(
        update(features)
        .where(features.c.source_location_id == location_id)
        .values(source_location_id=None)
    )
