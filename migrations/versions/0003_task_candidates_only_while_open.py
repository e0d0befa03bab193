"""task candidates are the open offers, with each task's urgency

``task_candidate`` becomes the index of open offers: a task's rows exist
while it is open and unclaimed, and carry its process key, priority, due
date and creation time (the task row keeps its candidates for good). The
inbox's "offered to me or my groups" then reads the work waiting now
instead of every task a group was ever offered, which grew with the
company's history, and orders and counts it without reading the tasks.
Rows of closed or claimed tasks are removed here; the downgrade puts them
back from the task rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from bpm.store.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
COPIED = ("definition_key", "priority", "due_at", "created_at")  # from the task onto each of its offers
REQUIRED = ("definition_key", "priority", "created_at")
BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("definition_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("created_at", UtcDateTime(), nullable=True))

    candidates = sa.table("task_candidate", sa.column("task_id"), *(sa.column(name) for name in COPIED))
    task = sa.table("task", sa.column("id"), sa.column("status"), sa.column("assignee"),
                    *(sa.column(name) for name in COPIED))
    connection = op.get_bind()
    not_claimable = sa.select(task.c.id).where(sa.or_(task.c.status != "open", task.c.assignee.is_not(None)))
    connection.execute(candidates.delete().where(candidates.c.task_id.in_(not_claimable)))
    connection.execute(candidates.update().values({
        name: sa.select(task.c[name]).where(task.c.id == candidates.c.task_id).scalar_subquery() for name in COPIED}))

    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        for name in REQUIRED:
            batch_op.alter_column(name, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        for name in reversed(COPIED):
            batch_op.drop_column(name)

    candidates = sa.table("task_candidate", sa.column("task_id"), sa.column("kind"), sa.column("name"))
    task = sa.table("task", sa.column("id"), sa.column("status"), sa.column("assignee"),
                    sa.column("candidate_users", JSON), sa.column("candidate_groups", JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(task.c.id, task.c.candidate_users, task.c.candidate_groups)
                              .where(sa.or_(task.c.status != "open", task.c.assignee.is_not(None)))).all()
    batch: list[dict[str, str]] = []
    for task_id, users, groups in rows:
        batch += [{"task_id": task_id, "kind": "user", "name": name} for name in users]
        batch += [{"task_id": task_id, "kind": "group", "name": name} for name in groups]
        if len(batch) >= BATCH:
            connection.execute(candidates.insert(), batch)
            batch = []
    if batch:
        connection.execute(candidates.insert(), batch)
