"""Replies waiting for submitters: metadata only (id, mailbox, hour written, size, expiry).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("mailbox", sa.String(26), nullable=False),
        sa.Column("received_hour", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("expires_hour", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_replies_mailbox", "replies", ["mailbox"])
    op.create_index("ix_replies_expires_hour", "replies", ["expires_hour"])


def downgrade() -> None:
    op.drop_index("ix_replies_expires_hour", table_name="replies")
    op.drop_index("ix_replies_mailbox", table_name="replies")
    op.drop_table("replies")
