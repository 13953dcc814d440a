"""Submissions are numbered in the order they were published, so that reviewers see two
messages of one hour in the order they were sent without the server keeping a finer time.
The counter lives in the storage ledger's one row (it survives purges); submissions stored
before this have no number and keep the order of their ids.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("storage_ledger") as batch:
        batch.add_column(
            sa.Column("published", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("storage_ledger") as batch:
        batch.drop_column("published")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("seq")
