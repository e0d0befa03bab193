"""definition revision

A draft is edited in place, so two designers saving it could overwrite each
other without knowing. Each definition row now counts its writes; the API
sends it as the ETag and honours If-Match, as it does for instances and tasks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.drop_column("revision")
