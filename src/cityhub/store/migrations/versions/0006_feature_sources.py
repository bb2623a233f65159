"""Where a feature came from, and whether its source still lists it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import JSONDocument, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("features", sa.Column("provenance", JSONDocument))
    op.add_column("features", sa.Column("gone_at", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("features") as batch:
        batch.drop_column("gone_at")
        batch.drop_column("provenance")
