"""Organizations and datasets in the store: create, find, list, change, delete, and which
Things a dataset holds. Every face and the CLI manage them through these functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from cityhub.datasets import vocabularies
from cityhub.datasets.fields import DatasetChanges, DatasetFields, OrganizationFields, checked
from cityhub.digits import is_digits
from cityhub.errors import BadRequest, Conflict, NotFound
from cityhub.store import schema
from cityhub.store.access import NOTHING_HIDDEN, Hidden
from cityhub.timeutil import format_instant

_datasets = schema.datasets
_organizations = schema.organizations

# --- organizations ---------------------------------------------------------------------------


def create_organization(connection: Connection, **values: Any) -> int:
    fields = checked(OrganizationFields, values, "organization")
    if _organization_id(connection, fields.slug) is not None:
        raise Conflict(f"an organization '{fields.slug}' exists already")
    row = {**fields.model_dump(), "created_at": datetime.now(UTC)}
    return int(connection.execute(insert(_organizations).values(row)).inserted_primary_key[0])


def list_organizations(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(select(_organizations).order_by(_organizations.c.slug))
    return [_organization_json(row) for row in rows.mappings()]


def find_organization(connection: Connection, ref: str | int) -> dict[str, Any]:
    row = (
        connection.execute(select(_organizations).where(_by_ref(_organizations, ref)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no organization '{ref}'")
    return _organization_json(row)


def _organization_id(connection: Connection, slug: str) -> int | None:
    return connection.scalar(select(_organizations.c.id).where(_organizations.c.slug == slug))


def _organization_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "url": row["url"],
        "email": row["email"],
    }


# --- datasets --------------------------------------------------------------------------------


def create_dataset(connection: Connection, **values: Any) -> int:
    """A new dataset from its fields (see ``DatasetFields``); its id."""
    fields = checked(DatasetFields, values, "dataset")
    if dataset_by_slug(connection, fields.slug) is not None:
        raise Conflict(f"a dataset '{fields.slug}' exists already")
    now = datetime.now(UTC)
    row = _row(connection, fields) | {
        "slug": fields.slug,
        "visibility": fields.visibility,
        "keywords": fields.keywords or [],
        "themes": fields.themes or [],
        "created_at": now,
        "modified_at": now,
    }
    return int(connection.execute(insert(_datasets).values(row)).inserted_primary_key[0])


def update_dataset(connection: Connection, ref: str | int, **changes: Any) -> dict[str, Any]:
    """Change the fields given; the dataset as it is now."""
    fields = checked(DatasetChanges, changes, "dataset")
    dataset_id = _dataset_id(connection, ref)
    row = _row(connection, fields) | {"modified_at": datetime.now(UTC)}
    connection.execute(update(_datasets).where(_datasets.c.id == dataset_id).values(row))
    return find_dataset(connection, dataset_id)


def _row(connection: Connection, fields: DatasetChanges) -> dict[str, Any]:
    """The columns of the fields that were given."""
    row = fields.model_dump(exclude_unset=True, exclude={"organization", "slug"})
    if "organization" in fields.model_fields_set:
        slug = fields.organization
        row["organization_id"] = None
        if slug:
            row["organization_id"] = _organization_id(connection, slug)
            if row["organization_id"] is None:
                raise BadRequest(f"invalid dataset: organization: no organization '{slug}'")
    return row


def find_dataset(
    connection: Connection, ref: str | int, hidden: Hidden = NOTHING_HIDDEN
) -> dict[str, Any]:
    """A dataset by id or slug, as JSON-ready data; 404 if there is none or it is hidden."""
    statement = _listing().where(_by_ref(_datasets, ref))
    row = connection.execute(statement).mappings().first()
    if row is None or row["id"] in hidden.datasets:
        raise NotFound(f"no dataset '{ref}'")
    return _dataset_json(row)


def dataset_by_slug(connection: Connection, slug: str) -> dict[str, Any] | None:
    row = connection.execute(_listing().where(_datasets.c.slug == slug)).mappings().first()
    return None if row is None else _dataset_json(row)


def list_datasets(connection: Connection, hidden: Hidden = NOTHING_HIDDEN) -> list[dict[str, Any]]:
    """Every dataset the reader may see, by slug."""
    statement = _listing().order_by(_datasets.c.slug)
    if hidden:
        statement = statement.where(_datasets.c.id.not_in(sorted(hidden.datasets)))
    return [_dataset_json(row) for row in connection.execute(statement).mappings()]


def delete_dataset(connection: Connection, ref: str | int, *, with_content: bool = False) -> None:
    """Delete a dataset. One that still holds Things or collections is refused (409) unless
    ``with_content``, which deletes them too — never are they silently made public."""
    dataset_id = _dataset_id(connection, ref)
    things, collections = _content_counts(connection, dataset_id)
    if (things or collections) and not with_content:
        raise Conflict(
            f"dataset '{ref}' holds {things} Things and {collections} collections; move them "
            "to another dataset first, or delete them with it (with_content / --with-content)"
        )
    connection.execute(delete(schema.things).where(schema.things.c.dataset_id == dataset_id))
    connection.execute(delete(_datasets).where(_datasets.c.id == dataset_id))


def move_things(connection: Connection, thing_ids: list[int], ref: str | int | None) -> int:
    """Put Things into a dataset (``None``: into none, public); how many were moved."""
    dataset_id = None if ref is None else _dataset_id(connection, ref)
    things = schema.things
    known = set(connection.scalars(select(things.c.id).where(things.c.id.in_(thing_ids))))
    missing = sorted(set(thing_ids) - known)
    if missing:
        raise BadRequest(f"no Thing with @iot.id {', '.join(map(str, missing))}")
    connection.execute(
        update(things).where(things.c.id.in_(thing_ids)).values(dataset_id=dataset_id)
    )
    return len(known)


def dataset_id_of(connection: Connection, ref: Any) -> int:
    """The id of the dataset a client named by id or slug, or a 400 that says it is unknown."""
    if isinstance(ref, bool) or not isinstance(ref, (int, str)) or ref == "":
        raise BadRequest(f"a dataset is named by its id or slug, not {ref!r}")
    dataset_id = connection.scalar(select(_datasets.c.id).where(_by_ref(_datasets, ref)))
    if dataset_id is None:
        raise BadRequest(f"no dataset '{ref}'")
    return int(dataset_id)


def _dataset_id(connection: Connection, ref: str | int) -> int:
    dataset_id = connection.scalar(select(_datasets.c.id).where(_by_ref(_datasets, ref)))
    if dataset_id is None:
        raise NotFound(f"no dataset '{ref}'")
    return int(dataset_id)


def _by_ref(table: Any, ref: str | int) -> Any:
    """A row named by its id (an int, or a string of digits) or its slug."""
    if isinstance(ref, int) or (isinstance(ref, str) and is_digits(ref)):
        return table.c.id == int(ref)
    return table.c.slug == ref


def _content_counts(connection: Connection, dataset_id: int) -> tuple[int, int]:
    things = connection.scalar(select(func.count()).where(schema.things.c.dataset_id == dataset_id))
    collections = connection.scalar(
        select(func.count()).where(schema.collections.c.dataset_id == dataset_id)
    )
    return int(things or 0), int(collections or 0)


def _listing() -> Any:
    """Datasets with their organization's slug and how many Things and collections they hold."""
    things = (
        select(func.count()).where(schema.things.c.dataset_id == _datasets.c.id).scalar_subquery()
    )
    collections = (
        select(func.count())
        .where(schema.collections.c.dataset_id == _datasets.c.id)
        .scalar_subquery()
    )
    return select(
        _datasets,
        _organizations.c.slug.label("organization"),
        things.label("thing_count"),
        collections.label("collection_count"),
    ).select_from(_datasets.outerjoin(_organizations))


def _dataset_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "slug": row["slug"],
        "title": row["title"],
        "description": row["description"],
        "organization": row["organization"],
        "licence": row["licence"],
        "licence_title": vocabularies.licence_title(row["licence"]),
        "keywords": row["keywords"],
        "themes": row["themes"],
        "update_frequency": row["update_frequency"],
        "contact_name": row["contact_name"],
        "contact_email": row["contact_email"],
        "visibility": row["visibility"],
        "hvd_category": row["hvd_category"],
        "extras": row["extras"],
        "things": row["thing_count"],
        "collections": row["collection_count"],
        "created_at": format_instant(row["created_at"]),
        "modified_at": format_instant(row["modified_at"]),
    }
