"""calls

An instance started by another's ``call`` step knows its parent and the step that waits for it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("parent_node_id", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_process_instance_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instance_parent_id")
        batch_op.drop_column("parent_node_id")
        batch_op.drop_column("parent_id")
