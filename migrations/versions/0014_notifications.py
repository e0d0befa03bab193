"""notifications

Outbox delivery (a kind, a lease, when to try again), the bell's notices and each person's notice settings.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import JsonColumn, UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as outbox:
        outbox.add_column(sa.Column("kind", sa.String(length=40), nullable=False, server_default="notify"))
        outbox.add_column(sa.Column("task_id", sa.String(length=36), nullable=True))
        outbox.add_column(sa.Column("next_attempt_at", UtcDateTime(), nullable=True))
        outbox.add_column(sa.Column("locked_by", sa.String(length=100), nullable=True))
        outbox.add_column(sa.Column("locked_until", UtcDateTime(), nullable=True))
        outbox.add_column(sa.Column("delivered", JsonColumn, nullable=True))
    op.create_index("ix_outbox_message_status_next", "outbox_message", ["status", "next_attempt_at"])
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=True),
        sa.Column("digested_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "username", name="uq_notification_message_username"),
    )
    op.create_index("ix_notification_username_read", "notification", ["username", "read_at", "created_at"])
    op.create_table(
        "notification_setting",
        sa.Column("username", sa.String(length=100), sa.ForeignKey("bpm_user.username", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("modes", JsonColumn, nullable=False),
        sa.Column("last_digest_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("notification_setting")
    op.drop_index("ix_notification_username_read", table_name="notification")
    op.drop_table("notification")
    op.drop_index("ix_outbox_message_status_next", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as outbox:
        for column in ("delivered", "locked_until", "locked_by", "next_attempt_at", "task_id", "kind"):
            outbox.drop_column(column)
