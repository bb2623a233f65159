"""SensorThings sensing core and API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.dialects import sqlite_geometry_index_ddl
from cityhub.store.types import BigId, Geometry, JSONDocument, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _ref(
    table: str, name: str, target: str, nullable: bool = False, on_delete: str = "CASCADE"
) -> sa.Column:
    key = sa.ForeignKey(f"{target}.id", ondelete=on_delete, name=f"fk_{table}_{name}")
    return sa.Column(name, sa.Integer, key, nullable=nullable)


def _link(table: str, name: str, target: str) -> sa.Column:
    key = sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{name}")
    return sa.Column(name, sa.Integer, key, primary_key=True)


def _entity_columns(*extra: sa.Column) -> tuple[sa.Column, ...]:
    return (
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        *extra,
        sa.Column("properties", JSONDocument),
    )


def upgrade() -> None:
    op.create_table("things", *_entity_columns(), **AUTOINCREMENT)
    op.create_table(
        "locations",
        *_entity_columns(
            sa.Column("encoding_type", sa.Text, nullable=False),
            sa.Column("location", JSONDocument, nullable=False),
            sa.Column("geom", Geometry()),
        ),
        **AUTOINCREMENT,
    )
    op.create_table(
        "thing_locations",
        _link("thing_locations", "thing_id", "things"),
        _link("thing_locations", "location_id", "locations"),
    )
    op.create_table(
        "historical_locations",
        _id(),
        _ref("historical_locations", "thing_id", "things"),
        sa.Column("time", UTCDateTime, nullable=False),
        **AUTOINCREMENT,
    )
    op.create_table(
        "historical_location_locations",
        _link("historical_location_locations", "historical_location_id", "historical_locations"),
        _link("historical_location_locations", "location_id", "locations"),
    )
    op.create_table(
        "sensors",
        *_entity_columns(
            sa.Column("encoding_type", sa.Text, nullable=False),
            sa.Column("metadata", JSONDocument, nullable=False),
        ),
        **AUTOINCREMENT,
    )
    op.create_table(
        "observed_properties",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("properties", JSONDocument),
        **AUTOINCREMENT,
    )
    op.create_table(
        "datastreams",
        *_entity_columns(
            sa.Column("unit_of_measurement", JSONDocument, nullable=False),
            sa.Column("observation_type", sa.Text, nullable=False),
            sa.Column("observed_area", JSONDocument),
            sa.Column("phenomenon_time_start", UTCDateTime),
            sa.Column("phenomenon_time_end", UTCDateTime),
            sa.Column("result_time_start", UTCDateTime),
            sa.Column("result_time_end", UTCDateTime),
        ),
        _ref("datastreams", "thing_id", "things"),
        _ref("datastreams", "sensor_id", "sensors"),
        _ref("datastreams", "observed_property_id", "observed_properties"),
        **AUTOINCREMENT,
    )
    op.create_table(
        "features_of_interest",
        *_entity_columns(
            sa.Column("encoding_type", sa.Text, nullable=False),
            sa.Column("feature", JSONDocument, nullable=False),
            sa.Column("geom", Geometry()),
        ),
        _ref(
            "features_of_interest",
            "source_location_id",
            "locations",
            nullable=True,
            on_delete="SET NULL",
        ),
        **AUTOINCREMENT,
    )
    op.create_table(
        "observations",
        sa.Column("id", BigId, primary_key=True),
        _ref("observations", "datastream_id", "datastreams"),
        sa.Column("phenomenon_time_start", UTCDateTime, nullable=False),
        sa.Column("phenomenon_time_end", UTCDateTime),
        sa.Column("result_time", UTCDateTime),
        sa.Column("result_type", sa.SmallInteger, nullable=False),
        sa.Column("result_number", sa.Float),
        sa.Column("result_string", sa.Text),
        sa.Column("result_json", JSONDocument),
        sa.Column("result_quality", JSONDocument),
        sa.Column("valid_time_start", UTCDateTime),
        sa.Column("valid_time_end", UTCDateTime),
        sa.Column("parameters", JSONDocument),
        _ref("observations", "feature_of_interest_id", "features_of_interest"),
        **AUTOINCREMENT,
    )
    op.create_table(
        "api_tokens",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        **AUTOINCREMENT,
    )
    _indexes()
    if op.get_bind().dialect.name == "sqlite":
        for table in ("locations", "features_of_interest"):
            for statement in sqlite_geometry_index_ddl(table):
                op.execute(statement)
    else:
        for table in ("locations", "features_of_interest"):
            op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def _indexes() -> None:
    op.create_index("ix_thing_locations_location_id", "thing_locations", ["location_id"])
    op.create_index(
        "ix_historical_locations_thing_id_time", "historical_locations", ["thing_id", "time"]
    )
    op.create_index(
        "ix_historical_location_locations_location_id",
        "historical_location_locations",
        ["location_id"],
    )
    for column in ("thing_id", "sensor_id", "observed_property_id"):
        op.create_index(f"ix_datastreams_{column}", "datastreams", [column])
    op.create_index(
        "ix_features_of_interest_source_location_id",
        "features_of_interest",
        ["source_location_id"],
    )
    op.create_index(
        "ix_observations_datastream_id_phenomenon_time_start_id",
        "observations",
        ["datastream_id", "phenomenon_time_start", "id"],
    )
    op.create_index(
        "ix_observations_feature_of_interest_id", "observations", ["feature_of_interest_id"]
    )
    op.create_index("uq_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=True)
