"""Connectors: their runs, and leases through which worker processes share them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import JSONDocument, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connector_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("summary", JSONDocument),
        sa.Column("error", sa.Text),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'failed')", name="ck_connector_runs_status"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_connector_runs_name_started_at", "connector_runs", ["name", "started_at"])
    op.create_table(
        "connector_leases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("holder", sa.Text),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("next_due", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("connector_leases")
    op.drop_index("ix_connector_runs_name_started_at", "connector_runs")
    op.drop_table("connector_runs")
