"""The catalog record of each dataset: its metadata, what it holds (collections, Things,
Datastreams) and the extent of its data in space and time.

One record is what the DCAT-AP.de graph and the CKAN API both render, so they cannot say
different things. Records of many datasets are read together, in a fixed handful of
statements whatever their number (a catalog of 1,000 datasets is six queries, not 6,000).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, column, func, null, select, table

from cityhub.features.geo import RTREE as _FEATURES_RTREE
from cityhub.store import schema
from cityhub.store.access import PUBLIC, Hidden

Box = tuple[float, float, float, float]

_datasets = schema.datasets
_organizations = schema.organizations
_collections = schema.collections
_features = schema.features
_things = schema.things
_datastreams = schema.datastreams
_multi = schema.multi_datastreams
_links = schema.thing_locations
_locations = schema.locations
_LOCATIONS_RTREE = table(
    "locations_geom_rtree", *(column(name) for name in ("id", "minx", "maxx", "miny", "maxy"))
)


@dataclass(frozen=True)
class Organization:
    slug: str
    name: str
    description: str | None
    url: str | None
    email: str | None


@dataclass(frozen=True)
class CollectionRef:
    slug: str
    title: str
    description: str | None
    modified: datetime


@dataclass(frozen=True)
class StreamRef:
    id: int
    name: str
    description: str


@dataclass
class Record:
    """One dataset as the catalog describes it."""

    id: int
    slug: str
    title: str
    description: str
    licence: str
    keywords: list[str]
    themes: list[str]
    frequency: str | None
    hvd_category: str | None
    contact_name: str | None
    contact_email: str | None
    visibility: str
    created: datetime
    modified: datetime
    organization: Organization | None
    collections: list[CollectionRef] = field(default_factory=list)
    datastreams: list[StreamRef] = field(default_factory=list)
    things: int = 0
    bbox: Box | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Selection:
    """Which datasets to read: public ones only (every listing), or those a reader sees."""

    hidden: Hidden | None = None  # None: public datasets only
    slugs: Sequence[str] | None = None
    limit: int | None = None
    offset: int = 0


def read(connection: Connection, selection: Selection) -> list[Record]:
    """The records of the selected datasets, by slug."""
    statement = _dataset_rows(selection).order_by(_datasets.c.slug)
    if selection.limit is not None:
        statement = statement.limit(selection.limit).offset(selection.offset)
    records = [_record(row) for row in connection.execute(statement).mappings()]
    if records:
        _fill(connection, {record.id: record for record in records})
    return records


def count(connection: Connection, selection: Selection) -> int:
    """How many datasets the selection holds (for paging)."""
    rows = _dataset_rows(selection).subquery()
    return int(connection.scalar(select(func.count()).select_from(rows)) or 0)


def slugs(connection: Connection, selection: Selection) -> list[str]:
    """The slugs of the selected datasets, by slug: to find one by another name cheaply."""
    rows = _dataset_rows(selection).subquery()
    return list(connection.scalars(select(rows.c.slug).order_by(rows.c.slug)))


def _dataset_rows(selection: Selection) -> Select[Any]:
    statement = select(
        _datasets,
        _organizations.c.slug.label("org_slug"),
        _organizations.c.name.label("org_name"),
        _organizations.c.description.label("org_description"),
        _organizations.c.url.label("org_url"),
        _organizations.c.email.label("org_email"),
    ).select_from(_datasets.outerjoin(_organizations))
    if selection.hidden is None:
        statement = statement.where(_datasets.c.visibility == PUBLIC)
    elif selection.hidden:
        statement = statement.where(_datasets.c.id.not_in(sorted(selection.hidden.datasets)))
    if selection.slugs is not None:
        statement = statement.where(_datasets.c.slug.in_(list(selection.slugs)))
    return statement


def _record(row: Any) -> Record:
    organization = None
    if row["org_slug"] is not None:
        organization = Organization(
            row["org_slug"],
            row["org_name"],
            row["org_description"],
            row["org_url"],
            row["org_email"],
        )
    return Record(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        description=row["description"] or "",
        licence=row["licence"],
        keywords=list(row["keywords"] or []),
        themes=list(row["themes"] or []),
        frequency=row["update_frequency"],
        hvd_category=row["hvd_category"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        visibility=row["visibility"],
        created=row["created_at"],
        modified=row["modified_at"],
        organization=organization,
    )


def _fill(connection: Connection, records: dict[int, Record]) -> None:
    """Collections, Datastreams and extents of all ``records``, one statement each."""
    ids = sorted(records)
    backend = connection.dialect.name
    for row in connection.execute(
        select(_collections).where(_collections.c.dataset_id.in_(ids)).order_by(_collections.c.slug)
    ).mappings():
        records[row["dataset_id"]].collections.append(
            CollectionRef(row["slug"], row["title"], row["description"], row["modified_at"])
        )
    for dataset_id, things in connection.execute(
        select(_things.c.dataset_id, func.count())
        .where(_things.c.dataset_id.in_(ids))
        .group_by(_things.c.dataset_id)
    ):
        records[dataset_id].things = int(things)
    streams = select(
        _things.c.dataset_id, _datastreams.c.id, _datastreams.c.name, _datastreams.c.description
    ).select_from(_datastreams.join(_things, _things.c.id == _datastreams.c.thing_id))
    for dataset_id, stream_id, name, description in connection.execute(
        streams.where(_things.c.dataset_id.in_(ids)).order_by(_datastreams.c.id)
    ):
        records[dataset_id].datastreams.append(StreamRef(stream_id, name, description))
    for dataset_id, start, end, box in _extents(connection, ids, backend):
        _widen(records[dataset_id], start, end, box)


def _extents(
    connection: Connection, ids: list[int], backend: str
) -> Iterable[tuple[int, datetime | None, datetime | None, Box | None]]:
    """(dataset, first time, last time, bounding box) of each part of the datasets' data:
    the features of their collections, the Observations of their (Multi)Datastreams and the
    Locations of their Things."""
    for statement in (
        _feature_extents(ids, backend),
        _stream_times(_datastreams, ids),
        _stream_times(_multi, ids),
        _location_boxes(ids, backend),
    ):
        for row in connection.execute(statement):
            yield row[0], row[1], row[2], None if row[3] is None else _rounded(row[3:7])


def _rounded(bounds: Any) -> Box:
    """To about ten metres: SQLite's R*Tree keeps boxes in 32-bit floats, rounded outwards
    (51.171 is 51.1709938)."""
    x0, y0, x1, y1 = (round(float(value), 4) for value in bounds)
    return x0, y0, x1, y1


def _bounds(geom: Any, rtree: Any, backend: str) -> list[Any]:
    if backend == "postgresql":
        extent = func.ST_Extent(geom)
        return [
            func.ST_XMin(extent),
            func.ST_YMin(extent),
            func.ST_XMax(extent),
            func.ST_YMax(extent),
        ]
    return [
        func.min(rtree.c.minx),
        func.min(rtree.c.miny),
        func.max(rtree.c.maxx),
        func.max(rtree.c.maxy),
    ]


def _feature_extents(ids: list[int], backend: str) -> Select[Any]:
    joined = _features.join(_collections, _collections.c.id == _features.c.collection_id)
    if backend != "postgresql":
        joined = joined.outerjoin(_FEATURES_RTREE, _FEATURES_RTREE.c.id == _features.c.id)
    return (
        select(
            _collections.c.dataset_id,
            func.min(_features.c.time_start),
            func.max(func.coalesce(_features.c.time_end, _features.c.time_start)),
            *_bounds(_features.c.geom, _FEATURES_RTREE, backend),
        )
        .select_from(joined)
        .where(_collections.c.dataset_id.in_(ids), _features.c.gone_at.is_(None))
        .group_by(_collections.c.dataset_id)
    )


def _stream_times(streams: Any, ids: list[int]) -> Select[Any]:
    return (
        select(
            _things.c.dataset_id,
            func.min(streams.c.phenomenon_time_start),
            func.max(func.coalesce(streams.c.phenomenon_time_end, streams.c.phenomenon_time_start)),
            *(null() for _ in range(4)),
        )
        .select_from(streams.join(_things, _things.c.id == streams.c.thing_id))
        .where(_things.c.dataset_id.in_(ids))
        .group_by(_things.c.dataset_id)
    )


def _location_boxes(ids: list[int], backend: str) -> Select[Any]:
    joined = _things.join(_links, _links.c.thing_id == _things.c.id).join(
        _locations, _locations.c.id == _links.c.location_id
    )
    if backend != "postgresql":
        joined = joined.join(_LOCATIONS_RTREE, _LOCATIONS_RTREE.c.id == _locations.c.id)
    return (
        select(
            _things.c.dataset_id,
            null(),
            null(),
            *_bounds(_locations.c.geom, _LOCATIONS_RTREE, backend),
        )
        .select_from(joined)
        .where(_things.c.dataset_id.in_(ids))
        .group_by(_things.c.dataset_id)
    )


def _widen(record: Record, start: datetime | None, end: datetime | None, box: Box | None) -> None:
    if start is not None:
        record.start = start if record.start is None else min(record.start, start)
    if end is not None:
        record.end = end if record.end is None else max(record.end, end)
    if box is not None:
        if record.bbox is None:
            record.bbox = box
        else:
            old = record.bbox
            record.bbox = (
                min(old[0], box[0]),
                min(old[1], box[1]),
                max(old[2], box[2]),
                max(old[3], box[3]),
            )


@dataclass(frozen=True)
class Summary:
    """What a listing needs of a public dataset: no content, no extents."""

    slug: str
    organization: str | None
    keywords: list[str]
    themes: list[str]


def summaries(connection: Connection) -> list[Summary]:
    """Every public dataset's name, organization, keywords and themes, by slug (one query)."""
    statement = (
        select(_datasets.c.slug, _organizations.c.slug, _datasets.c.keywords, _datasets.c.themes)
        .select_from(_datasets.outerjoin(_organizations))
        .where(_datasets.c.visibility == PUBLIC)
        .order_by(_datasets.c.slug)
    )
    return [
        Summary(slug, organization, list(keywords or []), list(themes or []))
        for slug, organization, keywords, themes in connection.execute(statement)
    ]


def organizations(connection: Connection) -> list[Organization]:
    """Every organization, by slug (organizations are public; their datasets may not be)."""
    statement = select(_organizations).order_by(_organizations.c.slug)
    return [
        Organization(row["slug"], row["name"], row["description"], row["url"], row["email"])
        for row in connection.execute(statement).mappings()
    ]
