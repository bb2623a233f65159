"""Information screens (layout, heartbeat) and crisis messages.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import JSONDocument, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screens",
        sa.Column("slug", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("screen_group", sa.Text),
        sa.Column("orientation", sa.Text, nullable=False),
        sa.Column("layout", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("modified_at", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime),
        sa.Column("version", sa.Text),
        sa.CheckConstraint(
            "orientation IN ('landscape', 'portrait')", name="ck_screens_orientation"
        ),
    )
    op.create_table(
        "crisis_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("screen_group", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("withdrawn_at", UTCDateTime),
        sa.Column("created_by", sa.Text),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name="ck_crisis_messages_severity"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_crisis_messages_withdrawn_at_expires_at",
        "crisis_messages",
        ["withdrawn_at", "expires_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_crisis_messages_withdrawn_at_expires_at", "crisis_messages")
    op.drop_table("crisis_messages")
    op.drop_table("screens")
