"""The request book: requests as records, and the stored roster (sites, shuttles, couriers).

Revision ID: 0004_requests
Revises: 0003_staff
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_requests"
down_revision: str | None = "0003_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "requests",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("dossier", sa.String(length=100), nullable=False),
        sa.Column("procedure", sa.String(length=200), nullable=True),
        sa.Column("due", sa.String(length=40), nullable=True),
        sa.Column("job_json", sa.JSON(), nullable=False),
        sa.Column("geocoded_json", sa.JSON(), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("citizen_name", sa.String(length=200), nullable=True),
        sa.Column("citizen_phone", sa.String(length=40), nullable=True),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("id_last4_hash", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_requests_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_requests_dossier"), ["dossier"], unique=False)
    op.create_table(
        "roster",
        sa.Column("part", sa.String(length=20), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("part"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("roster")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_dossier"))
        batch_op.drop_index(batch_op.f("ix_requests_status"))
        batch_op.drop_index(batch_op.f("ix_requests_date"))
    op.drop_table("requests")
