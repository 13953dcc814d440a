"""Submissions: metadata only (id, size, hours received and exported).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("received_hour", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("exported_hour", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_submissions_exported_hour", "submissions", ["exported_hour"])


def downgrade() -> None:
    op.drop_index("ix_submissions_exported_hour", table_name="submissions")
    op.drop_table("submissions")
