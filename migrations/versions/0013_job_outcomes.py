"""job outcomes

When a worker finished a job, and the last error of a job that failed (an incident once it failed too often).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job") as job:
        job.add_column(sa.Column("fired_at", UtcDateTime(), nullable=True))
        job.add_column(sa.Column("last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as job:
        job.drop_column("last_error")
        job.drop_column("fired_at")
