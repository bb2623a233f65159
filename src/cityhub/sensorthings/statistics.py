"""Answers read from the statistics every Datastream keeps (see ``derived``), not computed.

- ``$count`` of all Observations, or of one Datastream's, without ``$filter``: a sum over the
  Datastreams, or one row;
- the latest Observation of each Datastream, ``$expand=Observations($top=1;$orderby=
  phenomenonTime desc)``: one primary-key lookup per Datastream.

Anything else takes the general path in ``reads``, which gives the same answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, FromClause, Select, cast, func, select

from cityhub.sensorthings.model import BY_NAME, Relation
from cityhub.sensorthings.odata import Path
from cityhub.sensorthings.options import OrderBy, QueryOptions
from cityhub.store import schema

OBSERVATION = BY_NAME["Observation"]
DATASTREAM_OBSERVATIONS = BY_NAME["Datastream"].relation_by_name["Observations"]
_LATEST_FIRST = (OrderBy(Path(("phenomenonTime",)), descending=True),)

_datastreams, _observations = schema.datastreams, schema.observations

# Observations of no Datastream (of a MultiDatastream) are counted where they are: an index
# lookup that finds nothing when every Observation has a Datastream.
_ALL_OBSERVATIONS = select(
    cast(func.coalesce(func.sum(_datastreams.c.observation_count), 0), BigInteger)
    + select(func.count())
    .select_from(_observations)
    .where(_observations.c.datastream_id.is_(None))
    .scalar_subquery()
)


def is_latest_only(relation: Relation, options: QueryOptions, top: int) -> bool:
    """Whether an expand asks exactly for each Datastream's latest Observation (any $select,
    $count or nested $expand; no $filter, no $skip, no other order)."""
    return (
        relation == DATASTREAM_OBSERVATIONS
        and top == 1
        and options.orderby == _LATEST_FIRST
        and options.filter is None
        and not options.skip
    )


#: The column of ``latest_per_parent`` with the Datastream's Observation count (for nextLinks).
KEPT_COUNT = "_observation_count"


def latest_per_parent(parents: FromClause, columns: list[Any]) -> Select[Any]:
    """The latest Observation of each parent Datastream (``parents.c.value``) that has one,
    with the Datastream's Observation count."""
    return (
        select(
            parents.c.value.label("_parent"),
            _datastreams.c.observation_count.label(KEPT_COUNT),
            *columns,
        )
        .select_from(
            parents.join(_datastreams, _datastreams.c.id == parents.c.value).join(
                _observations, _observations.c.id == _datastreams.c.latest_observation_id
            )
        )
        .order_by(parents.c.value)
    )


def observation_count(
    connection: Connection, members: tuple[Relation, int] | None, options: QueryOptions
) -> int | None:
    """``@iot.count`` of ``Observations`` or ``Datastreams(n)/Observations`` from the kept
    counts; None when the request is another one (it is counted in SQL then)."""
    if options.filter is not None:
        return None
    if members is None:
        return int(connection.scalar(_ALL_OBSERVATIONS) or 0)
    relation, datastream_id = members
    if relation != DATASTREAM_OBSERVATIONS:
        return None
    count = connection.scalar(
        select(_datastreams.c.observation_count).where(_datastreams.c.id == datastream_id)
    )
    return int(count or 0)


def observation_counts(
    connection: Connection, relation: Relation, options: QueryOptions, parents: FromClause
) -> dict[int, int] | None:
    """``Observations@iot.count`` of expanded Datastreams from the kept counts, or None."""
    if relation != DATASTREAM_OBSERVATIONS or options.filter is not None:
        return None
    rows = connection.execute(
        select(parents.c.value, _datastreams.c.observation_count).select_from(
            parents.join(_datastreams, _datastreams.c.id == parents.c.value)
        )
    )
    return {parent: int(count) for parent, count in rows}
