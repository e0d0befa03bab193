"""start form files

A file field of a start form is stored as an attachment of the request before any task exists: the
attachment's task becomes optional (None: it came with the request's start form).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.alter_column("task_id", existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM attachment_content WHERE attachment_id IN "
               "(SELECT id FROM attachment WHERE task_id IS NULL)")
    op.execute("DELETE FROM attachment WHERE task_id IS NULL")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.alter_column("task_id", existing_type=sa.String(length=36), nullable=False)
