"""Limits against guessing: wrong ID-digit tries per dossier, attempt counters per window.

Revision ID: 0002_abuse
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_abuse"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("citizen_contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("id_wrong_tries", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("id_cleared_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("id_cleared_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "attempt_counts",
        sa.Column("bucket", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key", "window_no"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("attempt_counts")
    with op.batch_alter_table("citizen_contacts", schema=None) as batch_op:
        batch_op.drop_column("id_cleared_at")
        batch_op.drop_column("id_cleared_by")
        batch_op.drop_column("id_wrong_tries")
