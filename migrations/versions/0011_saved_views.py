"""saved views

A person's named inbox filters: the list's query string under a name of their choosing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_view",
        sa.Column("username", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", "name"),
    )


def downgrade() -> None:
    op.drop_table("saved_view")
