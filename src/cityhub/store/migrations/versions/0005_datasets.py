"""Publication: organizations, datasets, feature collections and their features; Things
and tokens bound to a dataset.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.dialects import sqlite_geometry_index_ddl
from cityhub.store.types import Geometry, JSONDocument, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}
VISIBILITY = "visibility IN ('public', 'restricted')"


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _ref(table: str, name: str, target: str, nullable: bool = False, on_delete: str = "CASCADE"):
    key = sa.ForeignKey(f"{target}.id", ondelete=on_delete, name=f"fk_{table}_{name}")
    return sa.Column(name, sa.Integer, key, nullable=nullable)


def _times() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("modified_at", UTCDateTime, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "organizations",
        _id(),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        **AUTOINCREMENT,
    )
    op.create_index("uq_organizations_slug", "organizations", ["slug"], unique=True)
    op.create_table(
        "datasets",
        _id(),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        _ref("datasets", "organization_id", "organizations", True, "SET NULL"),
        sa.Column("licence", sa.Text, nullable=False),
        sa.Column("keywords", JSONDocument, nullable=False),
        sa.Column("themes", JSONDocument, nullable=False),
        sa.Column("update_frequency", sa.Text),
        sa.Column("contact_name", sa.Text),
        sa.Column("contact_email", sa.Text),
        sa.Column("visibility", sa.Text, nullable=False),
        sa.Column("hvd_category", sa.Text),
        sa.Column("extras", JSONDocument),
        *_times(),
        sa.CheckConstraint(VISIBILITY, name="ck_datasets_visibility"),
        **AUTOINCREMENT,
    )
    op.create_index("uq_datasets_slug", "datasets", ["slug"], unique=True)
    op.create_index("ix_datasets_organization_id", "datasets", ["organization_id"])
    op.create_table(
        "collections",
        _id(),
        sa.Column("slug", sa.Text, nullable=False),
        _ref("collections", "dataset_id", "datasets"),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("key_property", sa.Text),
        sa.Column("time_property", sa.Text),
        *_times(),
        **AUTOINCREMENT,
    )
    op.create_index("uq_collections_slug", "collections", ["slug"], unique=True)
    op.create_index("ix_collections_dataset_id", "collections", ["dataset_id"])
    op.create_table(
        "features",
        _id(),
        _ref("features", "collection_id", "collections"),
        sa.Column("key", sa.Text),
        sa.Column("properties", JSONDocument, nullable=False),
        sa.Column("geom", Geometry()),
        sa.Column("time_start", UTCDateTime),
        sa.Column("time_end", UTCDateTime),
        _ref("features", "thing_id", "things", True, "SET NULL"),
        *_times(),
        **AUTOINCREMENT,
    )
    op.create_index(
        "uq_features_collection_id_key", "features", ["collection_id", "key"], unique=True
    )
    op.create_index("ix_features_thing_id", "features", ["thing_id"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in sqlite_geometry_index_ddl("features"):
            op.execute(statement)
    else:
        op.create_index("ix_features_geom", "features", ["geom"], postgresql_using="gist")
    _bind_to_datasets("things", "SET NULL")
    _bind_to_datasets("api_tokens", "CASCADE")


def _bind_to_datasets(table: str, on_delete: str) -> None:
    """A nullable ``dataset_id`` on an existing table. SQLite adds the column with its
    reference in place: copying a table that others reference (batch mode) is not safe."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN dataset_id INTEGER CONSTRAINT fk_{table}_dataset_id "
            f"REFERENCES datasets (id) ON DELETE {on_delete}"
        )
    else:
        op.add_column(table, sa.Column("dataset_id", sa.Integer))
        op.create_foreign_key(
            f"fk_{table}_dataset_id", table, "datasets", ["dataset_id"], ["id"], ondelete=on_delete
        )
    op.create_index(f"ix_{table}_dataset_id", table, ["dataset_id"])


def downgrade() -> None:
    for table in ("api_tokens", "things"):
        op.drop_index(f"ix_{table}_dataset_id", table)
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN dataset_id")
        else:
            op.drop_constraint(f"fk_{table}_dataset_id", table, type_="foreignkey")
            op.drop_column(table, "dataset_id")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE features_geom_rtree")
    op.drop_table("features")
    op.drop_table("collections")
    op.drop_table("datasets")
    op.drop_table("organizations")
