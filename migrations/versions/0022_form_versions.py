"""form versions

Forms become data: numbered versions (draft, published, retired) created through the API and the form
designer; a published process pins the form versions it uses; a task remembers the version it was made with.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bpm.store.types import UtcDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "form_version",
        sa.Column("form_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("schema", JSON, nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("ui", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=100), nullable=True),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("form_id", "version"),
    )
    with op.batch_alter_table("form_version", schema=None) as batch_op:
        batch_op.create_index("ix_form_version_status", ["status"], unique=False)
        batch_op.create_index("uq_form_version_one_draft", ["form_id"], unique=True,
                              postgresql_where=sa.text("status = 'draft'"), sqlite_where=sa.text("status = 'draft'"))
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_versions", JSON, nullable=True))
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("form_version")
    with op.batch_alter_table("process_definition", schema=None) as batch_op:
        batch_op.drop_column("form_versions")
    op.drop_table("form_version")
