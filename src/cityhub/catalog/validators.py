"""Validators of the catalog's answers (``ETag``, ``Last-Modified``), so that harvesters
(GovData harvests every night) fetch the catalog again only when it changed.

The tag is made of a handful of aggregates over what a record is read from — the datasets
and their organizations, their collections, Things, Locations and (Multi)Datastreams — each
one index lookup or a count, never the rendering itself. Everything a page shows moves one of
them: an edited dataset its ``modified_at``, an import or an edited collection the
collection's ``modified_at``, a new Observation its Datastream's count and phenomenon times,
a moved Thing its HistoricalLocations. Added to them: the page, its size, the format, the
catalog profile (the settings that shape the output) and the hub's version.

A catalog page's tag covers the whole catalog, not only the page: the page also states the
total and the catalog's ``dct:modified``, and a dataset added before it moves every page
after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Select, cast, func, select, true

from cityhub import __version__, conditional
from cityhub.catalog import records
from cityhub.store import schema
from cityhub.store.access import PUBLIC

#: Bumped when the rendering changes in a way no version bump tells, so that every copy is stale.
LAYOUT_VERSION = 1
#: Seconds a public catalog answer may be kept without asking (the catalog changes rarely).
MAX_AGE = 300

_things = schema.things


@dataclass(frozen=True)
class Validators:
    """What ``cityhub.conditional`` needs of an answer of the catalog."""

    etag: str
    last_modified: datetime | None
    public: bool


@dataclass(frozen=True)
class State:
    """What the selected datasets' records are made of, in aggregates."""

    parts: tuple[Any, ...]
    last_modified: datetime | None
    public: bool

    @property
    def count(self) -> int:
        """How many datasets are selected (the catalog's total)."""
        return int(self.parts[0][0])

    def validators(self, *answer: Any) -> Validators:
        """The validators of one answer (``answer``: page, size, format, profile …)."""
        tag = conditional.etag(LAYOUT_VERSION, __version__, self.parts, *answer)
        return Validators(tag, self.last_modified, self.public)


def state(connection: Connection, selection: records.Selection) -> State:
    """The state of the datasets ``selection`` chooses (public ones, or one a reader sees):
    two statements, one of them a single row of all the aggregates."""
    rows = records.dataset_rows(selection).subquery()
    ids = select(rows.c.id).scalar_subquery()
    datasets = select(
        func.count(), func.sum(rows.c.id), func.max(rows.c.modified_at), func.min(rows.c.visibility)
    )
    aggregates = [
        statement.subquery()
        for statement in (
            datasets,
            _collections(ids),
            _of_things(ids),
            _streams(schema.datastreams, ids),
            _streams(schema.multi_datastreams, ids),
        )
    ]
    joined = aggregates[0]
    for aggregate in aggregates[1:]:
        joined = joined.join(aggregate, true())
    row = connection.execute(select(*aggregates).select_from(joined)).one()
    found, start = [], 0
    for aggregate in aggregates:
        found.append(tuple(row[start : start + len(aggregate.c)]))
        start += len(aggregate.c)
    organizations = connection.execute(_organizations(rows)).all()
    dataset_part, collections, _, streams, multi = found
    last_modified = conditional.latest(dataset_part[2], collections[2], streams[4], multi[4])
    parts = (*found, *map(tuple, organizations))
    return State(parts, last_modified, dataset_part[3] in (None, PUBLIC))


def _organizations(rows: Any) -> Select[Any]:
    """The organizations named in the records (they have no stamp of their own; few)."""
    columns = [
        rows.c[name] for name in ("org_slug", "org_name", "org_description", "org_url", "org_email")
    ]
    return select(*columns).distinct().where(rows.c.org_slug.is_not(None)).order_by(rows.c.org_slug)


def _collections(ids: Any) -> Select[Any]:
    c = schema.collections.c
    return select(func.count(), _placed(c.id, c.dataset_id), func.max(c.modified_at)).where(
        c.dataset_id.in_(ids)
    )


def _of_things(ids: Any) -> Select[Any]:
    """The Things, their Locations and their moves (a moved Thing gets a HistoricalLocation)."""
    mine = _things.c.dataset_id.in_(ids)
    links = schema.thing_locations.c
    moves = schema.historical_locations.c
    theirs = select(_things.c.id).where(mine)
    return select(
        func.count(),
        _placed(_things.c.id, _things.c.dataset_id),
        select(_placed(links.location_id, links.thing_id))
        .where(links.thing_id.in_(theirs))
        .scalar_subquery(),
        select(func.max(moves.id)).where(moves.thing_id.in_(theirs)).scalar_subquery(),
    ).where(mine)


def _placed(member: Any, owner: Any) -> Any:
    """A sum that changes when a member is added, removed or moved to another owner (a Thing
    to another dataset: no stamp tells)."""
    return func.sum(cast(member, BigInteger) * owner + member)


def _streams(streams: Any, ids: Any) -> Select[Any]:
    """The (Multi)Datastreams, their names' lengths (renames have no stamp) and the time span
    they keep of their Observations (what the temporal coverage is made of)."""
    c = streams.c
    return (
        select(
            func.count(),
            func.sum(c.id),
            func.sum(func.length(c.name) + func.length(c.description)),
            func.min(c.phenomenon_time_start),
            func.max(func.coalesce(c.phenomenon_time_end, c.phenomenon_time_start)),
        )
        .select_from(streams.join(_things, _things.c.id == c.thing_id))
        .where(_things.c.dataset_id.in_(ids))
    )
