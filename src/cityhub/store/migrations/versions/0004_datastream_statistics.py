"""Datastream statistics: the Observation count and the latest Observation, kept on write.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Existing Observations counted and their latest found once; writes keep both current.
_BACKFILL = """
UPDATE datastreams SET
    observation_count = (
        SELECT count(*) FROM observations o WHERE o.datastream_id = datastreams.id
    ),
    latest_observation_id = (
        SELECT o.id FROM observations o WHERE o.datastream_id = datastreams.id
        ORDER BY o.phenomenon_time_start DESC, o.id DESC LIMIT 1
    ),
    latest_phenomenon_time = (
        SELECT max(o.phenomenon_time_start) FROM observations o
        WHERE o.datastream_id = datastreams.id
    )
"""


def upgrade() -> None:
    op.add_column(
        "datastreams",
        sa.Column("observation_count", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("datastreams", sa.Column("latest_observation_id", BigId))
    op.add_column("datastreams", sa.Column("latest_phenomenon_time", UTCDateTime))
    op.execute(_BACKFILL)


def downgrade() -> None:
    for column in ("latest_phenomenon_time", "latest_observation_id", "observation_count"):
        op.drop_column("datastreams", column)
