"""LoRaWAN: the device registry, stored uplinks for deduplication, dead letters.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import JSONDocument, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}


def _ref(table: str, name: str, target: str) -> sa.Column:
    key = sa.ForeignKey(f"{target}.id", ondelete="SET NULL", name=f"fk_{table}_{name}")
    return sa.Column(name, sa.Integer, key, nullable=True)


def upgrade() -> None:
    op.create_table(
        "lorawan_devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dev_eui", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("decoder", sa.Text),
        sa.Column("integration", sa.Text),
        _ref("lorawan_devices", "thing_id", "things"),
        _ref("lorawan_devices", "feature_of_interest_id", "features_of_interest"),
        sa.Column("mapping", JSONDocument, nullable=False),
        sa.Column("location", JSONDocument),
        sa.Column("battery", sa.Float),
        sa.Column("margin", sa.Integer),
        sa.Column("status_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("modified_at", UTCDateTime, nullable=False),
        **AUTOINCREMENT,
    )
    op.create_index("uq_lorawan_devices_dev_eui", "lorawan_devices", ["dev_eui"], unique=True)
    op.create_index("ix_lorawan_devices_thing_id", "lorawan_devices", ["thing_id"])
    op.create_index(
        "ix_lorawan_devices_feature_of_interest_id", "lorawan_devices", ["feature_of_interest_id"]
    )
    op.create_table(
        "lorawan_uplinks",
        sa.Column("dev_eui", sa.Text, primary_key=True),
        sa.Column("dedup_key", sa.Text, primary_key=True),
        sa.Column("integration", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("stored_at", UTCDateTime, nullable=False),
        sa.Column("session", sa.Text),
        sa.Column("f_cnt", sa.BigInteger),
        sa.Column("f_port", sa.SmallInteger),
        sa.Column("rssi", sa.Float),
        sa.Column("snr", sa.Float),
        sa.Column("spreading_factor", sa.SmallInteger),
        sa.Column("gateway_count", sa.SmallInteger),
        sa.Column("frequency", sa.BigInteger),
    )
    op.create_table(
        "lorawan_dead_letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("integration", sa.Text, nullable=False),
        sa.Column("network", sa.Text, nullable=False),
        sa.Column("topic", sa.Text),
        sa.Column("event", sa.Text),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("dev_eui", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("last_attempt_at", UTCDateTime, nullable=False),
        **AUTOINCREMENT,
    )
    op.create_index("ix_lorawan_dead_letters_dev_eui", "lorawan_dead_letters", ["dev_eui"])


def downgrade() -> None:
    op.drop_table("lorawan_dead_letters")
    op.drop_table("lorawan_uplinks")
    op.drop_table("lorawan_devices")
