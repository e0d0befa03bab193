"""search words

The auditor's search finds part of a word (issue 22): ``instance_text`` keeps what a request is found by
besides its steps (its reference and its start form's text), written once when it starts; on PostgreSQL the
three places the search reads are trigram-indexed (pg_trgm, a trusted extension since PostgreSQL 13): that
text, the steps' titles and the decisions' text fields. The instance row, rewritten at every step, gets no
new index. Existing requests are given their words here.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# The texts searched, as functions the indexes and the search both name. PL/pgSQL, so the planner keeps them
# whole and believes their COST: said as plain expressions it took a scan of every row to be cheaper than the
# index (lower() and a JSON path count as one operator each), and read every task's data for each search.
FUNCTIONS = (
    "CREATE FUNCTION bpm_words(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 50 AS "
    "$$ BEGIN RETURN lower(t); END $$",
    "CREATE FUNCTION bpm_decided_words(d jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 500 AS "
    "$$ BEGIN RETURN lower(jsonb_path_query_array(d, '$.** ? (@.type() == \"string\")')::text); END $$",
)


def _texts(value, depth=0):
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif depth < 16 and isinstance(value, dict):
        for item in value.values():
            yield from _texts(item, depth + 1)
    elif depth < 16 and isinstance(value, list):
        for item in value:
            yield from _texts(item, depth + 1)


def upgrade() -> None:
    op.create_table(
        "instance_text",
        sa.Column("instance_id", sa.String(length=36),
                  sa.ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("words", sa.Text(), nullable=False),
    )
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for function in FUNCTIONS:
            op.execute(function)
        op.execute("CREATE INDEX ix_instance_text_trgm ON instance_text USING gin (bpm_words(words) gin_trgm_ops)")
        op.execute("CREATE INDEX ix_task_title_trgm ON task USING gin (bpm_words(title) gin_trgm_ops)")
        op.execute("CREATE INDEX ix_task_decided_trgm ON task USING gin (bpm_decided_words(data) gin_trgm_ops)")


def _backfill() -> None:
    """Each request's reference and its start form's text (the first run of its definition's start node)."""
    bind = op.get_bind()
    starts = {}
    for definition_id, body in bind.execute(sa.text("SELECT id, body FROM process_definition")):
        body = json.loads(body) if isinstance(body, str) else body
        starts[definition_id] = next((n.get("id") for n in (body or {}).get("nodes", [])
                                      if isinstance(n, dict) and n.get("type") == "start"), None)
    rows = bind.execute(sa.text("SELECT id, definition_id, business_key, snapshot FROM process_instance"))
    table = sa.table("instance_text", sa.column("instance_id"), sa.column("words"))
    batch = []
    for instance_id, definition_id, business_key, snapshot in rows:
        snapshot = json.loads(snapshot) if isinstance(snapshot, str) else (snapshot or {})
        runs = (snapshot.get("context") or {}).get(starts.get(definition_id) or "", [])
        output = runs[0].get("output") if runs and isinstance(runs[0], dict) else None
        batch.append({"instance_id": instance_id,
                      "words": "\n".join([business_key or "", *_texts(output)])[:8000]})
        if len(batch) >= 1000:
            op.bulk_insert(table, batch)
            batch = []
    if batch:
        op.bulk_insert(table, batch)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_task_decided_trgm")
        op.execute("DROP INDEX IF EXISTS ix_task_title_trgm")
        op.execute("DROP FUNCTION IF EXISTS bpm_decided_words(jsonb)")
    op.drop_table("instance_text")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bpm_words(text)")
