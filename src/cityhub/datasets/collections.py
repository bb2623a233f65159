"""The feature collections of a dataset, as the admin API lists and deletes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, select, update

from cityhub.datasets.fields import CollectionChanges, checked
from cityhub.datasets.manage import find_dataset
from cityhub.errors import NotFound
from cityhub.store import schema
from cityhub.timeutil import format_instant

_collections = schema.collections
_features = schema.features


def list_collections(connection: Connection, dataset: str | int) -> list[dict[str, Any]]:
    """The dataset's collections by slug, each with how many features it holds (and how many
    of them their source no longer lists); 404 for an unknown dataset."""
    dataset_id = find_dataset(connection, dataset)["id"]
    return _counted(connection, _collections.c.dataset_id == dataset_id)


def _counted(connection: Connection, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    """The collections ``where`` holds, by slug, with their features counted."""
    current = func.count(_features.c.id).filter(_features.c.gone_at.is_(None))
    gone = func.count(_features.c.id).filter(_features.c.gone_at.is_not(None))
    statement = (
        select(_collections, current.label("feature_count"), gone.label("gone_count"))
        .select_from(
            _collections.outerjoin(_features, _features.c.collection_id == _collections.c.id)
        )
        .where(where)
        .group_by(_collections.c.id)
        .order_by(_collections.c.slug)
    )
    return [_collection_json(row) for row in connection.execute(statement).mappings()]


def update_collection(
    connection: Connection, dataset: str | int, slug: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change the collection's title or description; the collection as it is now."""
    fields = checked(CollectionChanges, changes, "collection")
    collection_id = _collection_id(connection, dataset, slug)
    row = fields.model_dump(exclude_unset=True)
    if row.get("title") is None:
        row.pop("title", None)  # a title can be changed, not taken away
    row["modified_at"] = datetime.now(UTC)
    connection.execute(update(_collections).where(_collections.c.id == collection_id).values(row))
    return _counted(connection, _collections.c.id == collection_id)[0]


def _collection_id(connection: Connection, dataset: str | int, slug: str) -> int:
    dataset_id = find_dataset(connection, dataset)["id"]
    collection_id = connection.scalar(
        select(_collections.c.id).where(
            and_(_collections.c.slug == slug, _collections.c.dataset_id == dataset_id)
        )
    )
    if collection_id is None:
        raise NotFound(f"no collection '{slug}' in dataset '{dataset}'")
    return int(collection_id)


def delete_collection(connection: Connection, dataset: str | int, slug: str) -> int:
    """Delete the collection and its features; the number of features deleted."""
    collection_id = _collection_id(connection, dataset, slug)
    in_collection = _features.c.collection_id == collection_id
    deleted = connection.execute(delete(_features).where(in_collection))
    connection.execute(delete(_collections).where(_collections.c.id == collection_id))
    return int(deleted.rowcount or 0)


def _collection_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "slug": row["slug"],
        "title": row["title"],
        "description": row["description"],
        "key_property": row["key_property"],
        "time_property": row["time_property"],
        "features": row["feature_count"],
        "gone": row["gone_count"],
        "created_at": format_instant(row["created_at"]),
        "modified_at": format_instant(row["modified_at"]),
    }
