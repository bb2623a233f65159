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

from cityhub.geometry import GeometryError, geojson_text
from cityhub.geometry import wgs84_geometry as check_geometry
from cityhub.store import schema

__all__ = [
    "FeatureRecord",
    "GeometryError",
    "WriteSummary",
    "check_geometry",
    "ensure_collection",
    "write_features",
]

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
) -> int:
    """The id of collection ``slug`` in the dataset, created if new; the fields given update it.

    A slug names one collection hub-wide (it is part of every URL), so one that belongs to
    another dataset is refused rather than silently moved.
    """
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
        values = {"title": slug, **given, "slug": slug, "dataset_id": dataset_id}
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
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in _last_of_each_key(records):
        values = _values(record)
        if record.key is not None:
            seen.add(record.key)
            current = existing.get(record.key)
            if current is not None:
                if current["gone_at"] is None and _same(current, values):
                    summary.unchanged += 1
                else:
                    updates.append({**values, "_id": current["id"]})
                continue
        inserts.append({**values, "collection_id": collection_id, "key": record.key})
    gone = (
        [row["id"] for key, row in existing.items() if key not in seen and row["gone_at"] is None]
        if mark_missing_gone
        else []
    )
    stamp = {"modified_at": now, "provenance": provenance}
    if inserts:
        connection.execute(
            insert(_features), [{**row, **stamp, "created_at": now} for row in inserts]
        )
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
        connection.execute(
            update(_collections).where(_collections.c.id == collection_id).values(modified_at=now)
        )
    return summary


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
