"""Where a collection's features come from: the ``features`` rows of a stored collection, or
the Things with a Location (the ``sensors`` collection). Both are read through one shape of
columns, so every query of the face is written once. The access rule is applied here: a
collection of a hidden dataset, and a Thing of one, do not exist for the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, func, literal, null, select

from cityhub.store import schema
from cityhub.store.access import Hidden, in_visible_dataset
from cityhub.store.types import SRID, UTCDateTime

#: The id of the collection of every Thing with a Location.
SENSORS = "sensors"

_features = schema.features
_collections = schema.collections
_datasets = schema.datasets


@dataclass(frozen=True)
class Collection:
    """A collection's metadata, as the face describes it."""

    id: int | None  # None: the sensors collection, which has no row
    slug: str
    title: str
    description: str | None
    dataset: str | None = None
    licence: str | None = None
    keywords: tuple[str, ...] = ()
    #: When the collection was last written (the write path stamps it on every change).
    modified_at: datetime | None = None
    dataset_id: int | None = None
    #: The property whose value identifies a feature (unique in the collection), if any.
    key_property: str | None = None

    @property
    def is_sensors(self) -> bool:
        return self.id is None


SENSORS_COLLECTION = Collection(
    None,
    SENSORS,
    "Sensoren / Sensors",
    "Every Thing with a Location, with the latest value of each of its Datastreams.",
)


@dataclass(frozen=True)
class Source:
    """The columns of a collection's features and the conditions that select them."""

    table: FromClause
    base: tuple[ColumnElement[bool], ...]
    #: ``geom`` is the ``features`` column, with the R*Tree (SQLite) or GiST (PostGIS) index.
    indexed: bool
    #: Columns beyond the common ones, named as properties (a Thing's name and description).
    extra: tuple[str, ...] = field(default=())

    @property
    def c(self) -> Any:
        return self.table.c


def alive(table: FromClause) -> list[ColumnElement[bool]]:
    """Features marked gone are not served (where the schema marks them)."""
    return [table.c.gone_at.is_(None)] if "gone_at" in table.c else []


def visible_collections(connection: Connection, hidden: Hidden) -> list[Collection]:
    """The stored collections the reader may see, by slug, then the sensors collection."""
    statement = _collection_query(hidden).order_by(_collections.c.slug)
    stored = [_collection(row) for row in connection.execute(statement)]
    return [*stored, SENSORS_COLLECTION]


def find_collection(connection: Connection, slug: str, hidden: Hidden) -> Collection | None:
    if slug == SENSORS:
        return SENSORS_COLLECTION
    row = connection.execute(_collection_query(hidden).where(_collections.c.slug == slug)).first()
    return None if row is None else _collection(row)


def _collection_query(hidden: Hidden) -> Any:
    statement = select(
        _collections.c.id,
        _collections.c.slug,
        _collections.c.title,
        _collections.c.description,
        _datasets.c.slug.label("dataset"),
        _datasets.c.licence,
        _datasets.c.keywords,
        _collections.c.modified_at,
        _collections.c.dataset_id,
        _collections.c.key_property,
    ).select_from(_collections.join(_datasets, _datasets.c.id == _collections.c.dataset_id))
    if hidden:
        statement = statement.where(in_visible_dataset(_collections.c.dataset_id, hidden))
    return statement


def _collection(row: Any) -> Collection:
    keywords = tuple(row.keywords) if isinstance(row.keywords, list) else ()
    return Collection(
        row.id,
        row.slug,
        row.title,
        row.description,
        row.dataset,
        row.licence,
        keywords,
        row.modified_at,
        row.dataset_id,
        row.key_property,
    )


def source(collection: Collection, hidden: Hidden) -> Source:
    if collection.is_sensors:
        return sensor_source(hidden)
    return feature_source(collection.id)


def feature_source(collection_id: int, table: FromClause = _features) -> Source:
    """The features of a stored collection, read from ``table`` (the table or an alias)."""
    return Source(table, (table.c.collection_id == collection_id, *alive(table)), indexed=True)


def sensor_source(hidden: Hidden) -> Source:
    """Things with a Location as features: the Thing's id, its first Location's geometry."""
    things, links, locations = schema.things, schema.thing_locations, schema.locations
    first_location = (
        select(func.min(links.c.location_id))
        .where(links.c.thing_id == things.c.id)
        .scalar_subquery()
    )
    statement = (
        select(
            things.c.id,
            things.c.name,
            things.c.description,
            things.c.properties,
            locations.c.geom,
            null().cast(UTCDateTime).label("time_start"),
            null().cast(UTCDateTime).label("time_end"),
            things.c.id.label("thing_id"),
        )
        .select_from(things.join(locations, locations.c.id == first_location))
        .where(locations.c.geom.is_not(None))
    )
    if hidden:
        statement = statement.where(in_visible_dataset(things.c.dataset_id, hidden))
    table = statement.subquery("sensors")
    return Source(table, (), indexed=False, extra=("name", "description"))


def geometry_literal(geojson: str) -> ColumnElement[Any]:
    """A GeoJSON geometry (WGS 84) as an SQL geometry on either backend."""
    return func.ST_SetSRID(func.ST_GeomFromGeoJSON(literal(geojson)), SRID)
