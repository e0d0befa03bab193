"""task candidates on the task row

Candidate users and groups never change after a task is created, so the task
row now carries them as JSON lists: completing, claiming or showing a task no
longer needs a second query. ``task_candidate`` keeps one row per candidate
for the inbox's indexed "offered to me" join. Existing tasks are filled in
from ``task_candidate``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
COLUMNS = {"user": "candidate_users", "group": "candidate_groups"}


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        for column in COLUMNS.values():
            batch_op.add_column(sa.Column(column, JSON, nullable=False, server_default=sa.text("'[]'")))

    connection = op.get_bind()
    candidates = sa.table("task_candidate", sa.column("task_id"), sa.column("kind"), sa.column("name"))
    task = sa.table("task", sa.column("id"), *(sa.column(name, JSON) for name in COLUMNS.values()))
    found: defaultdict[str, dict[str, list[str]]] = defaultdict(lambda: {name: [] for name in COLUMNS.values()})
    rows = connection.execute(sa.select(candidates.c.task_id, candidates.c.kind, candidates.c.name)
                              .order_by(candidates.c.task_id, candidates.c.kind, candidates.c.name))
    for task_id, kind, name in rows:
        found[task_id][COLUMNS[kind]].append(name)
    if found:
        update = (task.update().where(task.c.id == sa.bindparam("task_id"))
                  .values({name: sa.bindparam(name) for name in COLUMNS.values()}))
        connection.execute(update, [{"task_id": task_id, **lists} for task_id, lists in found.items()])

    with op.batch_alter_table("task", schema=None) as batch_op:
        for column in COLUMNS.values():
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        for column in reversed(COLUMNS.values()):
            batch_op.drop_column(column)
