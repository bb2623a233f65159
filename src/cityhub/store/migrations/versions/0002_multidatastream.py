"""SensorThings MultiDatastreams: their table, their ordered ObservedProperties, and
Observations that belong to a Datastream or a MultiDatastream.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import JSONDocument, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}
ONE_STREAM = "(datastream_id IS NULL) <> (multi_datastream_id IS NULL)"
# Most Observations belong to a Datastream: the index holds only the others.
MULTI_ONLY = "multi_datastream_id IS NOT NULL"


def _ref(table: str, name: str, target: str, primary_key: bool = False) -> sa.Column:
    key = sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{name}")
    return sa.Column(name, sa.Integer, key, nullable=False, primary_key=primary_key)


def upgrade() -> None:
    op.create_table(
        "multi_datastreams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("unit_of_measurements", JSONDocument, nullable=False),
        sa.Column("observation_type", sa.Text, nullable=False),
        sa.Column("multi_observation_data_types", JSONDocument, nullable=False),
        sa.Column("observed_area", JSONDocument),
        sa.Column("phenomenon_time_start", UTCDateTime),
        sa.Column("phenomenon_time_end", UTCDateTime),
        sa.Column("result_time_start", UTCDateTime),
        sa.Column("result_time_end", UTCDateTime),
        sa.Column("properties", JSONDocument),
        _ref("multi_datastreams", "thing_id", "things"),
        _ref("multi_datastreams", "sensor_id", "sensors"),
        **AUTOINCREMENT,
    )
    for column in ("thing_id", "sensor_id"):
        op.create_index(f"ix_multi_datastreams_{column}", "multi_datastreams", [column])
    link = "multi_datastream_observed_properties"
    op.create_table(
        link,
        _ref(link, "multi_datastream_id", "multi_datastreams", primary_key=True),
        _ref(link, "observed_property_id", "observed_properties", primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index(f"ix_{link}_observed_property_id", link, ["observed_property_id"])
    op.create_index(f"uq_{link}_position", link, ["multi_datastream_id", "position"], unique=True)
    _observations_of_either_stream()


def _observations_of_either_stream() -> None:
    """``datastream_id`` becomes optional, ``multi_datastream_id`` joins it, one of them set.

    SQLite alters a table by copying it (batch mode); its AUTOINCREMENT counter is carried
    over so that ids of deleted Observations are still never reused.
    """
    counter = _sqlite_counter("observations")
    with op.batch_alter_table("observations", table_kwargs=AUTOINCREMENT) as batch:
        batch.alter_column("datastream_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("multi_datastream_id", sa.Integer, nullable=True))
        batch.create_foreign_key(
            "fk_observations_multi_datastream_id",
            "multi_datastreams",
            ["multi_datastream_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_check_constraint("ck_observations_one_stream", ONE_STREAM)
    op.create_index(
        "ix_observations_multi_datastream_id_phenomenon_time_start_id",
        "observations",
        ["multi_datastream_id", "phenomenon_time_start", "id"],
        postgresql_where=sa.text(MULTI_ONLY),
        sqlite_where=sa.text(MULTI_ONLY),
    )
    _restore_sqlite_counter("observations", counter)


def _sqlite_counter(table: str) -> int | None:
    """The table's AUTOINCREMENT counter on SQLite (None elsewhere, or before any insert)."""
    if op.get_bind().dialect.name != "sqlite":
        return None
    return op.get_bind().scalar(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table}
    )


def _restore_sqlite_counter(table: str, counter: int | None) -> None:
    if counter is None:
        return
    connection = op.get_bind()
    parameters = {"name": table, "seq": counter}
    updated = connection.execute(
        sa.text("UPDATE sqlite_sequence SET seq = max(seq, :seq) WHERE name = :name"),
        parameters,
    )
    if updated.rowcount == 0:
        connection.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"), parameters
        )


def downgrade() -> None:
    op.drop_index("ix_observations_multi_datastream_id_phenomenon_time_start_id", "observations")
    op.execute("DELETE FROM observations WHERE multi_datastream_id IS NOT NULL")
    counter = _sqlite_counter("observations")
    with op.batch_alter_table("observations", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_constraint("ck_observations_one_stream", type_="check")
        batch.drop_constraint("fk_observations_multi_datastream_id", type_="foreignkey")
        batch.drop_column("multi_datastream_id")
        batch.alter_column("datastream_id", existing_type=sa.Integer, nullable=False)
    _restore_sqlite_counter("observations", counter)
    op.drop_table("multi_datastream_observed_properties")
    op.drop_table("multi_datastreams")
