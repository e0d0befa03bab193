"""history chain

Each history entry's place in its instance's hash chain, the hash before it and its own (bpm/store/chain.py),
the chains' heads; existing entries are chained in the order they were written. On PostgreSQL the history
table then refuses UPDATE, DELETE and TRUNCATE (run the service under a role with only INSERT and SELECT on
it as well: docs/audit.md).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bpm.store.chain import GENESIS, HistoryEvent, entry_body, entry_hash
from bpm.store.types import JsonColumn, UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION bpm_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'history_entry is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER history_entry_append_only BEFORE UPDATE OR DELETE ON history_entry
  FOR EACH ROW EXECUTE FUNCTION bpm_history_is_append_only();
CREATE TRIGGER history_entry_no_truncate BEFORE TRUNCATE ON history_entry
  FOR EACH STATEMENT EXECUTE FUNCTION bpm_history_is_append_only();
"""


def upgrade() -> None:
    with op.batch_alter_table("history_entry") as history:
        history.add_column(sa.Column("position", sa.Integer(), nullable=True))
        history.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        history.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_chain_head",
        sa.Column("chain", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    _chain_what_is_there()
    with op.batch_alter_table("history_entry") as history:
        history.create_unique_constraint("uq_history_entry_chain_position", ["instance_id", "position"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def _chain_what_is_there() -> None:
    """Chain the entries written before this revision, per instance, in the order they were written."""
    bind = op.get_bind()
    typed = {"at": UtcDateTime(), "delta": JsonColumn, "changes": JsonColumn}
    history = sa.table("history_entry", *(sa.column(c, typed.get(c)) for c in (
        "id", "instance_id", "revision", "at", "actor", "cause", "node_id", "status", "snapshot_version", "delta",
        "task_id", "on_behalf_of", "changes", "position", "prev_hash", "entry_hash")))
    rows = bind.execute(sa.select(history).order_by(history.c.instance_id, history.c.id)).mappings().all()
    heads: dict[str, tuple[int, str]] = {}
    for row in rows:
        position, prev = heads.get(row["instance_id"], (0, GENESIS))
        event = HistoryEvent(row["instance_id"], row["revision"], row["at"], row["actor"], row["cause"],
                             row["node_id"], row["status"], row["snapshot_version"], row["delta"], row["task_id"],
                             row["changes"], row["on_behalf_of"])
        body = entry_body(event, position + 1, prev)
        digest = entry_hash(body)
        bind.execute(sa.update(history).where(history.c.id == row["id"]).values(
            position=position + 1, prev_hash=prev, entry_hash=digest))
        heads[row["instance_id"]] = (position + 1, digest)
    if heads:
        head = sa.table("audit_chain_head", sa.column("chain"), sa.column("position"), sa.column("entry_hash"))
        bind.execute(sa.insert(head), [{"chain": k, "position": p, "entry_hash": h} for k, (p, h) in heads.items()])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS history_entry_no_truncate ON history_entry")
        op.execute("DROP TRIGGER IF EXISTS history_entry_append_only ON history_entry")
        op.execute("DROP FUNCTION IF EXISTS bpm_history_is_append_only()")
    with op.batch_alter_table("history_entry") as history:
        history.drop_constraint("uq_history_entry_chain_position", type_="unique")
        history.drop_column("entry_hash")
        history.drop_column("prev_hash")
        history.drop_column("position")
    op.drop_table("audit_chain_head")
