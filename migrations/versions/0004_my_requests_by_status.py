"""my requests by status

"My running requests" (started_by and a status) read every instance a
person ever started through (started_by, started_at) to count and list the
few in that status. With the status before the time, the filtered list
reads only its own rows; the unfiltered one still reads the person's rows,
as it did, and sorts them by time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instance_started_by")
        batch_op.create_index("ix_process_instance_started_by_status", ["started_by", "status", "started_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instance_started_by_status")
        batch_op.create_index("ix_process_instance_started_by", ["started_by", "started_at"], unique=False)
