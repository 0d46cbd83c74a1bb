"""Promised dates of results, the outbox of messages to citizens, and their opt-outs.

Revision ID: 0003_staff
Revises: 0002_abuse
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_staff"
down_revision: str | None = "0002_abuse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "promises",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("processing_days", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.String(length=10), nullable=False),
        sa.Column("promised_date", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.PrimaryKeyConstraint("dossier_id"),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promises_promised_date"), ["promised_date"], unique=False
        )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_dossier_id"), ["dossier_id"], unique=False
        )
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "message_opt_outs",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.PrimaryKeyConstraint("dossier_id"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("message_opt_outs")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_dossier_id"))
    op.drop_table("outbox_messages")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promises_promised_date"))
    op.drop_table("promises")
