"""expect one row

A function for the batched writes on PostgreSQL (bpm.store.direct): an optimistic lock sent in a batch is
wrapped as ``WITH changed AS (UPDATE … RETURNING 1) SELECT bpm_expect_one_row(count(*), n) FROM changed``, which
fails with SQLSTATE BPM01 (its detail: the write's number in the batch) unless exactly one row changed. A
batch stops at its first error, so a completion's COMMIT can travel with its writes instead of waiting for
their row counts (one round trip less). PL/pgSQL and VOLATILE, so the planner never evaluates it early.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
CREATE FUNCTION bpm_expect_one_row(changed bigint, write_number integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF changed <> 1 THEN
    RAISE EXCEPTION 'an optimistic lock failed: write % of the batch changed % rows', write_number, changed
      USING ERRCODE = 'BPM01', DETAIL = write_number::text;
  END IF;
  RETURN 1;
END $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bpm_expect_one_row(bigint, integer)")
