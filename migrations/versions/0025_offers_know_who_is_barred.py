"""offers know who is barred

Each open offer (task_candidate) carries its task's ``barred`` list, so a group's member who asked for a request
is not offered it (nor counted it) in Group tasks: the inbox reads only the narrow offer rows.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import JsonColumn

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("barred", JsonColumn, nullable=True))
    op.execute("UPDATE task_candidate SET barred = (SELECT task.barred FROM task WHERE task.id = task_candidate.task_id)")


def downgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.drop_column("barred")
