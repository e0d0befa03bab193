"""audit events and retention

The second kind of chain: definitions and administrative actions (published, retired, export made, purge,
legal hold set and lifted) in ``audit_event``, append-only on PostgreSQL like the history. Legal holds, and
when an instance's data was purged. Anchors now sign only the heads that moved since the anchor before, and
that anchor's root (``previous``, unique: two anchorers cannot fork them). The history table's trigger now lets one thing through: the purge of one
instance's entries by a transaction that names that instance in ``bpm.purging`` (bpm/runtime/retention.py),
which leaves a tombstone in the chain in their place.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.types import JsonColumn, UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

PURGE_ONLY = """
CREATE OR REPLACE FUNCTION bpm_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.instance_id = current_setting('bpm.purging', true) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'history_entry is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
"""
APPEND_ONLY_BEFORE = """
CREATE OR REPLACE FUNCTION bpm_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'history_entry is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
"""
EVENTS_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION bpm_audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION bpm_audit_event_is_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION bpm_audit_event_is_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("details", JsonColumn, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("position", name="uq_audit_event_position"),
    )
    op.create_index("ix_audit_event_subject", "audit_event", ["subject"])
    op.create_table(
        "legal_hold",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"]),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    op.create_table(
        "saved_search",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["username"], ["bpm_user.username"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("username", "name"),
    )
    with op.batch_alter_table("process_instance") as instance:
        instance.add_column(sa.Column("purged_at", UtcDateTime(), nullable=True))
    with op.batch_alter_table("audit_chain_head") as head:
        head.add_column(sa.Column("anchored", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_anchor") as anchor:
        anchor.add_column(sa.Column("previous", sa.String(length=64), nullable=True))
        anchor.add_column(sa.Column("shipped_at", UtcDateTime(), nullable=True))
        anchor.create_unique_constraint("uq_audit_anchor_previous", ["previous"])
    op.create_index("ix_process_instance_ended", "process_instance", ["ended_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PURGE_ONLY)
        op.execute(EVENTS_APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS bpm_audit_event_is_append_only()")
        op.execute(APPEND_ONLY_BEFORE)
    op.drop_index("ix_process_instance_ended", "process_instance")
    with op.batch_alter_table("audit_anchor") as anchor:
        anchor.drop_constraint("uq_audit_anchor_previous", type_="unique")
        anchor.drop_column("shipped_at")
        anchor.drop_column("previous")
    with op.batch_alter_table("audit_chain_head") as head:
        head.drop_column("anchored")
    with op.batch_alter_table("process_instance") as instance:
        instance.drop_column("purged_at")
    op.drop_table("saved_search")
    op.drop_table("legal_hold")
    op.drop_index("ix_audit_event_subject", "audit_event")
    op.drop_table("audit_event")
