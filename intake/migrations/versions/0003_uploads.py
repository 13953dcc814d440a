"""Uploads in progress, finished upload ids and the storage ledger move into the database.

Until now they were files (uploads/<id>.meta, .done) read by directory scans. An upload in
progress when this runs is dropped (its .part file becomes an orphan for cleanup); the
submitter's browser starts it again.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("nojs", sa.Boolean(), nullable=False),
        sa.Column("small", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("created_hour", sa.BigInteger(), nullable=False),
        sa.Column("idle_tick", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_uploads_created_hour", "uploads", ["created_hour"])
    op.create_index("ix_uploads_idle_tick", "uploads", ["idle_tick"])
    op.create_table(
        "finished_uploads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("expires_hour", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_finished_uploads_expires_hour", "finished_uploads", ["expires_hour"])
    ledger = op.create_table(
        "storage_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stored", sa.BigInteger(), nullable=False),
        sa.Column("unfinished_large", sa.BigInteger(), nullable=False),
        sa.Column("unfinished_small", sa.BigInteger(), nullable=False),
        sa.Column("unfinished_count", sa.BigInteger(), nullable=False),
    )
    stored = op.get_bind().scalar(sa.text("SELECT COALESCE(SUM(size), 0) FROM submissions"))
    op.bulk_insert(
        ledger,
        [
            {
                "id": 1,
                "stored": int(stored or 0),
                "unfinished_large": 0,
                "unfinished_small": 0,
                "unfinished_count": 0,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("storage_ledger")
    op.drop_index("ix_finished_uploads_expires_hour", table_name="finished_uploads")
    op.drop_table("finished_uploads")
    op.drop_index("ix_uploads_idle_tick", table_name="uploads")
    op.drop_index("ix_uploads_created_hour", table_name="uploads")
    op.drop_table("uploads")
