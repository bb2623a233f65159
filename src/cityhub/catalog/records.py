"""The catalog record of each dataset: its metadata, what it holds (collections, Things,
Datastreams, MultiDatastreams) and the extent of its data in space and time.

One record is what the DCAT-AP.de graph and the CKAN API both render, so they cannot say
different things. Records of many datasets are read together, in a fixed handful of
statements whatever their number (a catalog of 1,000 datasets is seven queries, not 7,000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from cityhub.datasets.coverage import coverages
from cityhub.geometry import Box
from cityhub.store import schema
from cityhub.store.access import PUBLIC, Hidden

_datasets = schema.datasets
_organizations = schema.organizations
_collections = schema.collections
_things = schema.things
_datastreams = schema.datastreams
_multi_datastreams = schema.multi_datastreams


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
    multi_datastreams: list[StreamRef] = field(default_factory=list)
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
    statement = dataset_rows(selection).order_by(_datasets.c.slug)
    if selection.limit is not None:
        statement = statement.limit(selection.limit).offset(selection.offset)
    records = [_record(row) for row in connection.execute(statement).mappings()]
    if records:
        _fill(connection, {record.id: record for record in records})
    return records


def slugs(connection: Connection, selection: Selection) -> list[str]:
    """The slugs of the selected datasets, by slug: to find one by another name cheaply."""
    rows = dataset_rows(selection).subquery()
    return list(connection.scalars(select(rows.c.slug).order_by(rows.c.slug)))


def dataset_rows(selection: Selection) -> Select[Any]:
    """The selected datasets' rows with their organization's (``org_*``), unordered."""
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
    """Collections, (Multi)Datastreams and extents of all ``records``, one statement each."""
    ids = sorted(records)
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
    for dataset_id, stream in _streams(connection, _datastreams, ids):
        records[dataset_id].datastreams.append(stream)
    for dataset_id, stream in _streams(connection, _multi_datastreams, ids):
        records[dataset_id].multi_datastreams.append(stream)
    for dataset_id, found in coverages(connection, ids).items():
        record = records[dataset_id]
        record.bbox, record.start, record.end = found.bbox, found.start, found.end


def _streams(connection: Connection, table: Any, ids: list[int]) -> list[tuple[int, StreamRef]]:
    """The Datastreams (or MultiDatastreams) of the datasets ``ids``, with their dataset's id."""
    c = table.c
    statement = (
        select(_things.c.dataset_id, c.id, c.name, c.description)
        .select_from(table.join(_things, _things.c.id == c.thing_id))
        .where(_things.c.dataset_id.in_(ids))
        .order_by(c.id)
    )
    return [(row[0], StreamRef(row[1], row[2], row[3])) for row in connection.execute(statement)]


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
