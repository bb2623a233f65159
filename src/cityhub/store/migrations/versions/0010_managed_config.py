"""Connectors and LoRaWAN integrations created through the admin API.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import JSONDocument, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _managed(table: str) -> None:
    op.create_table(
        table,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("document", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("modified_at", UTCDateTime, nullable=False),
    )


def upgrade() -> None:
    _managed("connector_configs")
    _managed("lorawan_integrations")


def downgrade() -> None:
    op.drop_table("lorawan_integrations")
    op.drop_table("connector_configs")
