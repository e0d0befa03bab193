"""read positions

With a read replica, each person's last change is remembered as the primary's WAL position after it, so that
their heavy reads go to the replica only once it has replayed that far. It was kept in the server process
(and in a browser's session), so an API client whose next request reached another process behind the load
balancer could read a list without its own change. Kept here, on the primary, every process reads the same.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import UtcDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_position",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("wal_position", sa.BigInteger(), nullable=False),
        sa.Column("written_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("read_position")
