"""form drafts

A half-filled task or start form, saved by its person (explicitly, or when
they leave the page) without validation, and restored when they come back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from bpm.store.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_draft",
        sa.Column("username", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("key", sa.String(length=150), nullable=False),
        sa.Column("fields", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", "key"),
    )


def downgrade() -> None:
    op.drop_table("form_draft")
