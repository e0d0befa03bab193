"""attachments

Files added to a request on one of its tasks: the row people see, and the bytes in a table of their own.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), sa.ForeignKey("process_instance.id"), nullable=False),
        sa.Column("task_id", sa.String(length=36), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_instance", "attachment", ["instance_id", "added_at"])
    op.create_table(
        "attachment_content",
        sa.Column("attachment_id", sa.String(length=36), sa.ForeignKey("attachment.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("attachment_id"),
    )


def downgrade() -> None:
    op.drop_table("attachment_content")
    op.drop_index("ix_attachment_instance", table_name="attachment")
    op.drop_table("attachment")
