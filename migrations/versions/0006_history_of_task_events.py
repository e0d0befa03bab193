"""history of task events

Claims, unclaims, delegations and comments changed who may act without a
trace. They are history entries now: at the instance's current revision
(they do not change its snapshot, so no snapshot version and an empty delta),
naming the task and the change (old and new value), and, for work done for
someone else, on whose behalf. Snapshot revisions stay unique per instance;
task events may share a revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("history_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("on_behalf_of", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("changes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                                        "postgresql"), nullable=True))
        batch_op.alter_column("snapshot_version", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("uq_history_entry_instance_revision", type_="unique")
        batch_op.create_index("ix_history_entry_instance_revision", ["instance_id", "revision"], unique=False)
        batch_op.create_index("uq_history_entry_snapshot_revision", ["instance_id", "revision"], unique=True,
                              postgresql_where=sa.text("task_id IS NULL"), sqlite_where=sa.text("task_id IS NULL"))


def downgrade() -> None:
    op.execute("DELETE FROM history_entry WHERE task_id IS NOT NULL")
    with op.batch_alter_table("history_entry", schema=None) as batch_op:
        batch_op.drop_index("uq_history_entry_snapshot_revision")
        batch_op.drop_index("ix_history_entry_instance_revision")
        batch_op.create_unique_constraint("uq_history_entry_instance_revision", ["instance_id", "revision"])
        batch_op.alter_column("snapshot_version", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("changes")
        batch_op.drop_column("on_behalf_of")
        batch_op.drop_column("task_id")
