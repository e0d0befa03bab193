"""participants and delegation

Reads are scoped to the people related to an instance. The starter is on the
instance row and open work on the tasks and offers; ``instance_participant``
keeps everyone who acted on an instance (claimed, delegated, completed,
commented), one row per person, so that "instances I acted on" is an indexed
read. ``task.delegated_by`` names whom a delegate acts for (history's
on-behalf-of).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_participant",
        sa.Column("instance_id", sa.String(length=36), sa.ForeignKey("process_instance.id"), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("since", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "username"),
    )
    op.create_index("ix_instance_participant_username", "instance_participant", ["username", "instance_id"])
    # Those who already acted, from the history of task events and revisions (system actions excluded).
    op.execute("INSERT INTO instance_participant (instance_id, username, since) "
               "SELECT instance_id, actor, MIN(at) FROM history_entry WHERE actor <> 'system' "
               "GROUP BY instance_id, actor")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delegated_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("delegated_by")
    op.drop_index("ix_instance_participant_username", table_name="instance_participant")
    op.drop_table("instance_participant")
