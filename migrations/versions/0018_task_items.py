"""task items

A human task with ``forEach`` gives one task per item of a list (one review per
department): each task keeps its item and its place in the list.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import JsonColumn

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item", JsonColumn, nullable=True))
        batch_op.add_column(sa.Column("item_index", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("item_index")
        batch_op.drop_column("item")
