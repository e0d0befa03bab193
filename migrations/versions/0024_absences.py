"""absences

A person away for some days and who stands in for them (bpm.runtime.absences): the substitute acts on the
absent person's tasks on their behalf while the absence lasts.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import JsonColumn, UtcDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "absence",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("person", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("substitute", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("processes", JsonColumn, nullable=True),
        sa.Column("existing_tasks", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_absence_person", "absence", ["person"])
    op.create_index("ix_absence_substitute_ends", "absence", ["substitute", "ends_on"])


def downgrade() -> None:
    op.drop_index("ix_absence_substitute_ends", table_name="absence")
    op.drop_index("ix_absence_person", table_name="absence")
    op.drop_table("absence")
