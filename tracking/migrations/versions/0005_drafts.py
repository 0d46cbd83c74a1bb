"""Plan states: a plan is a draft, published or superseded; existing plans were published.

Revision ID: 0005_drafts
Revises: 0004_requests
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_drafts"
down_revision: str | None = "0004_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="published")
        )
        batch_op.add_column(sa.Column("base_plan_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("published_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_plans_state"), ["state"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_state"))
        batch_op.drop_column("published_at")
        batch_op.drop_column("published_by")
        batch_op.drop_column("base_plan_id")
        batch_op.drop_column("state")
