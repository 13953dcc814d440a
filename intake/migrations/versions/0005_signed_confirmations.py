"""Confirmations say whether a reviewer's signature proved them (FORMAT.md §8.5): those
recorded before are from unsigned acks, so they stay unsigned and never count for purge.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("confirmations") as batch:
        batch.add_column(
            sa.Column("signed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_column("signed")
