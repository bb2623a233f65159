"""Writing feature collections: the one path imports and connectors put places into the store.

Keyed features are upserted, so importing or harvesting the same source twice changes nothing
the second time; a source that stops listing a feature gets it marked gone, not deleted, so
nothing that was published disappears without a trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from shapely.geometry import shape
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from cityhub.geometry import GeometryError, geojson_text
from cityhub.geometry import wgs84_geometry as check_geometry
from cityhub.store import schema
from cityhub.store.bulk import BulkLoader

__all__ = [
    "RESERVED_SLUGS",
    "FeatureRecord",
    "GeometryError",
    "KeyTaken",
    "WriteSummary",
    "check_geometry",
    "delete_feature",
    "ensure_collection",
    "insert_feature",
    "replace_feature",
    "write_features",
]

#: Slugs no stored collection may have: ``sensors`` is the collection of every Thing with a
#: Location, which the features face serves under that name.
RESERVED_SLUGS = frozenset({"sensors"})

_features = schema.features
_collections = schema.collections

# Geometries read back from PostGIS carry at most 9 decimals; closer than this is the same.
_SAME_PLACE = 1e-8


@dataclass(frozen=True, slots=True)
class FeatureRecord:
    """One place as a source describes it; ``geometry`` is GeoJSON in WGS 84 (lon, lat)."""

    properties: dict[str, Any]
    geometry: dict[str, Any] | None = None
    key: str | None = None
    time_start: datetime | None = None
    time_end: datetime | None = None
    thing_id: int | None = None


@dataclass
class WriteSummary:
    """What a write changed, for the summary an operator reads."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "gone": self.gone,
        }


def ensure_collection(
    connection: Connection,
    dataset_id: int,
    slug: str,
    *,
    title: str | None = None,
    description: str | None = None,
    key_property: str | None = None,
    time_property: str | None = None,
    new_title: str | None = None,
) -> int:
    """The id of collection ``slug`` in the dataset, created if new; the fields given update it.
    ``new_title`` names a collection made now (default: its slug) and leaves an existing
    one's title alone, which its publisher may have changed since.

    A slug names one collection hub-wide (it is part of every URL), so one that belongs to
    another dataset is refused rather than silently moved.
    """
    if slug in RESERVED_SLUGS:
        raise ValueError(
            f"the collection id '{slug}' is reserved: /features/collections/{slug} serves every "
            "Thing with a Location; choose another"
        )
    now = datetime.now(UTC)
    row = connection.execute(
        select(_collections.c.id, _collections.c.dataset_id).where(_collections.c.slug == slug)
    ).first()
    given = {
        name: value
        for name, value in (
            ("title", title),
            ("description", description),
            ("key_property", key_property),
            ("time_property", time_property),
        )
        if value is not None
    }
    if row is None:
        values = {"title": new_title or slug, **given, "slug": slug, "dataset_id": dataset_id}
        created = connection.execute(
            insert(_collections).values(**values, created_at=now, modified_at=now)
        )
        return int(created.inserted_primary_key[0])
    if row.dataset_id != dataset_id:
        raise ValueError(f"the collection '{slug}' belongs to another dataset")
    if given:
        connection.execute(
            update(_collections).where(_collections.c.id == row.id).values(**given, modified_at=now)
        )
    return int(row.id)


def write_features(
    connection: Connection,
    collection_id: int,
    records: Iterable[FeatureRecord],
    *,
    provenance: dict[str, Any] | None = None,
    mark_missing_gone: bool = False,
) -> WriteSummary:
    """Write ``records`` into the collection in the caller's transaction.

    A keyed record updates the feature of the same key if anything differs (and revives it if
    it was gone), an unkeyed one is always new. With ``mark_missing_gone`` every keyed feature
    of the collection that ``records`` did not name is marked gone.
    """
    now = datetime.now(UTC)
    existing = _existing(connection, collection_id)
    summary = WriteSummary()
    inserts: list[FeatureRecord] = []
    updates: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in _last_of_each_key(records):
        if record.key is not None:
            seen.add(record.key)
            current = existing.get(record.key)
            if current is not None:
                values = _values(record)
                if current["gone_at"] is None and _same(current, values):
                    summary.unchanged += 1
                else:
                    updates.append({**values, "_id": current["id"]})
                continue
        inserts.append(record)
    gone = (
        [row["id"] for key, row in existing.items() if key not in seen and row["gone_at"] is None]
        if mark_missing_gone
        else []
    )
    if inserts:
        _insert(connection, collection_id, inserts, provenance, now)
    if updates:
        connection.execute(
            update(_features)
            .where(_features.c.id == bindparam("_id"))
            .values(
                properties=bindparam("properties"),
                geom=bindparam("geom"),
                time_start=bindparam("time_start"),
                time_end=bindparam("time_end"),
                thing_id=bindparam("thing_id"),
                gone_at=None,
                modified_at=now,
                provenance=provenance,
            ),
            updates,
        )
    if gone:
        connection.execute(
            update(_features)
            .where(_features.c.id == bindparam("_id"))
            .values(gone_at=now, modified_at=now),
            [{"_id": feature_id} for feature_id in gone],
        )
    summary.created, summary.updated, summary.gone = len(inserts), len(updates), len(gone)
    if inserts or updates or gone:
        _touch(connection, collection_id, now)
    return summary


class KeyTaken(ValueError):
    """Another current feature of the collection has the key a single write gives."""

    def __init__(self, key: str) -> None:
        super().__init__(f"another feature of the collection has the key '{key}'")
        self.key = key


def insert_feature(
    connection: Connection,
    collection_id: int,
    record: FeatureRecord,
    *,
    provenance: dict[str, Any] | None = None,
) -> int:
    """Add one new feature (the API's create) and return its id; ``KeyTaken`` if a current
    feature has its key. A gone feature holding the key gives it up and stays gone."""
    if record.key is not None:
        _claim_key(connection, collection_id, record.key, None)
    now = datetime.now(UTC)
    values = {
        **_values(record),
        "collection_id": collection_id,
        "key": record.key,
        "provenance": provenance,
        "created_at": now,
        "modified_at": now,
    }
    created = _guarded(
        record.key,
        lambda: connection.execute(insert(_features).returning(_features.c.id), values),
    )
    _touch(connection, collection_id, now)
    return int(created.scalar_one())


def replace_feature(
    connection: Connection,
    collection_id: int,
    feature_id: int,
    record: FeatureRecord,
    *,
    provenance: dict[str, Any] | None = None,
) -> bool:
    """Replace the properties, geometry, times, key and link of a current feature; False
    if the collection has no such feature (or it is gone). ``KeyTaken`` as for inserts."""
    if record.key is not None:
        _claim_key(connection, collection_id, record.key, feature_id)
    now = datetime.now(UTC)
    statement = (
        update(_features)
        .where(*_current(collection_id, feature_id))
        .values(**_values(record), key=record.key, provenance=provenance, modified_at=now)
    )
    replaced = _guarded(record.key, lambda: connection.execute(statement))
    if not replaced.rowcount:
        return False
    _touch(connection, collection_id, now)
    return True


def delete_feature(connection: Connection, collection_id: int, feature_id: int) -> bool:
    """Mark a current feature gone (it is no longer served, its row and key are kept, so a
    source listing it again revives it); False if there is no such current feature."""
    now = datetime.now(UTC)
    deleted = connection.execute(
        update(_features)
        .where(*_current(collection_id, feature_id))
        .values(gone_at=now, modified_at=now)
    )
    if not deleted.rowcount:
        return False
    _touch(connection, collection_id, now)
    return True


def _current(collection_id: int, feature_id: int) -> tuple[Any, ...]:
    return (
        _features.c.id == feature_id,
        _features.c.collection_id == collection_id,
        _features.c.gone_at.is_(None),
    )


def _claim_key(connection: Connection, collection_id: int, key: str, owner: int | None) -> None:
    """Make ``key`` free for feature ``owner`` (None: a new one): a gone feature gives it
    up; a current other one keeps it, and the write is refused."""
    holder = connection.execute(
        select(_features.c.id, _features.c.gone_at).where(
            _features.c.collection_id == collection_id, _features.c.key == key
        )
    ).first()
    if holder is None or holder.id == owner:
        return
    if holder.gone_at is None:
        raise KeyTaken(key)
    connection.execute(update(_features).where(_features.c.id == holder.id).values(key=None))


def _guarded(key: str | None, run: Any) -> Any:
    """``run()``; a unique-key violation (another process wrote the key meanwhile) as
    ``KeyTaken``."""
    try:
        return run()
    except IntegrityError:
        if key is None:
            raise
        raise KeyTaken(key) from None


def _touch(connection: Connection, collection_id: int, now: datetime) -> None:
    connection.execute(
        update(_collections).where(_collections.c.id == collection_id).values(modified_at=now)
    )


def _last_of_each_key(records: Iterable[FeatureRecord]) -> list[FeatureRecord]:
    """The records in order, a key named more than once counting with its last record."""
    keyed: dict[str, FeatureRecord] = {}
    ordered: list[FeatureRecord | str] = []
    for record in records:
        if record.key is None:
            ordered.append(record)
        else:
            if record.key not in keyed:
                ordered.append(record.key)
            keyed[record.key] = record
    return [keyed[item] if isinstance(item, str) else item for item in ordered]


def _insert(
    connection: Connection,
    collection_id: int,
    records: list[FeatureRecord],
    provenance: dict[str, Any] | None,
    now: datetime,
) -> None:
    """The new features, by the bulk loader, given column by column (no mapping per row)."""
    count = len(records)
    columns = {
        "collection_id": [collection_id] * count,
        "key": [r.key for r in records],
        "properties": [r.properties for r in records],
        "geom": [None if r.geometry is None else geojson_text(r.geometry) for r in records],
        "time_start": [r.time_start for r in records],
        "time_end": [r.time_end for r in records],
        "thing_id": [r.thing_id for r in records],
        "provenance": [provenance] * count,
        "created_at": [now] * count,
        "modified_at": [now] * count,
    }
    BulkLoader(connection).insert_columns(_features, columns)


def _values(record: FeatureRecord) -> dict[str, Any]:
    return {
        "properties": record.properties,
        "geom": None if record.geometry is None else geojson_text(record.geometry),
        "time_start": record.time_start,
        "time_end": record.time_end,
        "thing_id": record.thing_id,
    }


def _existing(connection: Connection, collection_id: int) -> dict[str, dict[str, Any]]:
    columns = [
        _features.c[name]
        for name in (
            "id",
            "key",
            "properties",
            "geom",
            "time_start",
            "time_end",
            "thing_id",
            "gone_at",
        )
    ]
    rows = connection.execute(
        select(*columns).where(
            _features.c.collection_id == collection_id, _features.c.key.is_not(None)
        )
    ).mappings()
    return {row["key"]: dict(row) for row in rows}


def _same(current: dict[str, Any], values: dict[str, Any]) -> bool:
    fields = ("properties", "time_start", "time_end", "thing_id")
    if any(current[name] != values[name] for name in fields):
        return False
    return _same_geometry(current["geom"], values["geom"])


def _same_geometry(stored: str | None, written: str | None) -> bool:
    if stored is None or written is None:
        return stored is written
    if stored == written:
        return True
    return bool(shape(orjson.loads(stored)).equals_exact(shape(orjson.loads(written)), _SAME_PLACE))
