"""Carry-over of the request book: a request carried to a later day names its continuation.

Revision ID: 0006_carry_over
Revises: 0005_drafts
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_carry_over"
down_revision: str | None = "0005_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carried_from", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("carried_to", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("carried_to")
        batch_op.drop_column("carried_from")
