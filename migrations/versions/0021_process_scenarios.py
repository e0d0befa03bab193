"""process scenarios

Saved test runs of a process, run again at every publish.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bpm.store.types import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "process_scenario",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("run", JSON, nullable=False),
        sa.Column("expect", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", "name"),
    )


def downgrade() -> None:
    op.drop_table("process_scenario")
