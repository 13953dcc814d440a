"""Staff events (opaque ciphertext) and reviewers' confirmations of what they opened.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("received_hour", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("exported_hour", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_staff_events_exported_hour", "staff_events", ["exported_hour"])
    op.create_table(
        "confirmations",
        sa.Column("item", sa.String(64), primary_key=True),
        sa.Column("reviewer", sa.String(16), primary_key=True),
        sa.Column("hour", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("confirmations")
    op.drop_index("ix_staff_events_exported_hour", table_name="staff_events")
    op.drop_table("staff_events")
