"""history by month

Every history entry keeps when its instance started (``instance_started_at``); the chain's unique keys
include it (the instance fixes it, so they are as strict as before). The history's foreign key to the
instances goes (as Camunda's history has none: instances are never deleted, and on PostgreSQL attaching a
month to a table with one locks the instances, in a cycle with the writers). On PostgreSQL ``history_entry`` is then
partitioned by month of that start and ``audit_event`` (the admin chain) by month of its time, each with a
default partition, every partition refusing UPDATE, DELETE (but retention's) and TRUNCATE like the tables did
(bpm/store/partitions.py says why these keys). The months that hold rows are made here, and the next
``MONTHS_AHEAD``; the worker makes the following ones. The rows are copied into the partitioned tables
(ids, hashes and chains unchanged) and the old tables dropped: one pass over the history, in this
migration's transaction.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

from bpm.store.partitions import (
    ADMIN_CHAIN,
    HISTORY,
    MONTHS_AHEAD,
    Partitioned,
    month_of,
    months_between,
    next_month,
    partition_ddl,
)
from bpm.store.types import UtcDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# SQLite's foreign keys have no names: batch mode names them by this convention, so one can be dropped.
NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
FOREIGN_KEY = "fk_history_entry_instance_id_process_instance"
OLDEST_MONTHS = 120  # rows older than ten years before now go to the default partition, not a month each

HISTORY_COLUMNS = ("id", "instance_id", "revision", "at", "actor", "cause", "node_id", "status", "snapshot_version",
                   "delta", "task_id", "on_behalf_of", "changes", "position", "prev_hash", "entry_hash")
EVENT_COLUMNS = ("id", "position", "at", "actor", "cause", "subject", "details", "prev_hash", "entry_hash")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _partition_history()
        _partition_admin_chain()
        return
    op.drop_index("uq_history_entry_snapshot_revision", "history_entry")
    with op.batch_alter_table("history_entry", naming_convention=NAMES) as history:
        history.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        history.add_column(sa.Column("instance_started_at", UtcDateTime(), nullable=True))
    op.execute("UPDATE history_entry SET instance_started_at = "
               "(SELECT started_at FROM process_instance WHERE process_instance.id = history_entry.instance_id)")
    with op.batch_alter_table("history_entry") as history:
        history.alter_column("instance_started_at", existing_type=UtcDateTime(), nullable=False)
        history.drop_constraint("uq_history_entry_chain_position", type_="unique")
        history.create_unique_constraint("uq_history_entry_chain_position",
                                         ["instance_id", "instance_started_at", "position"])
    op.create_index("uq_history_entry_snapshot_revision", "history_entry",
                    ["instance_id", "instance_started_at", "revision"], unique=True,
                    sqlite_where=sa.text("task_id IS NULL"))


def _months(oldest: str) -> list[dt.date]:
    """The months rows start in (at most ``OLDEST_MONTHS`` back) up to ``MONTHS_AHEAD`` after this one."""
    bind = op.get_bind()
    now = bind.execute(sa.text("SELECT now()")).scalar_one()
    first = bind.execute(sa.text(oldest)).scalar_one_or_none()
    last = month_of(now)
    for _ in range(MONTHS_AHEAD):
        last = next_month(last)
    floor = dt.date(now.year - OLDEST_MONTHS // 12, now.month, 1)
    first_month = max(month_of(first), floor) if first is not None else month_of(now)
    return months_between(min(first_month, month_of(now)), last)


def _make_partitions(table: Partitioned, months: list[dt.date]) -> None:
    for month in [None, *months]:
        for statement in partition_ddl(table, month):
            op.execute(statement)


def _set_aside(table: str, unique: str, indexes: tuple[str, ...]) -> str:
    """Rename ``table`` out of the way, its names freed for the partitioned table; the name it now has."""
    old = f"{table}_before_0027"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {table}_pkey TO {old}_pkey")
    op.execute(f"ALTER TABLE {old} DROP CONSTRAINT {unique}")
    for index in indexes:
        op.execute(f"DROP INDEX {index}")
    return old


def _partition_history() -> None:
    old = _set_aside("history_entry", "uq_history_entry_chain_position",
                     ("uq_history_entry_snapshot_revision", "ix_history_entry_instance_revision"))
    op.execute(f"CREATE TABLE history_entry (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS,"
               " instance_started_at timestamptz NOT NULL,"
               " CONSTRAINT history_entry_pkey PRIMARY KEY (id, instance_started_at),"
               " CONSTRAINT uq_history_entry_chain_position UNIQUE (instance_id, instance_started_at, position))"
               " PARTITION BY RANGE (instance_started_at)")
    op.execute("ALTER SEQUENCE history_entry_id_seq OWNED BY history_entry.id")
    op.execute("CREATE INDEX ix_history_entry_instance_revision ON history_entry (instance_id, revision)")
    op.execute("CREATE UNIQUE INDEX uq_history_entry_snapshot_revision ON history_entry"
               " (instance_id, instance_started_at, revision) WHERE task_id IS NULL")
    op.execute("CREATE TRIGGER history_entry_append_only BEFORE UPDATE OR DELETE ON history_entry"
               " FOR EACH ROW EXECUTE FUNCTION bpm_history_is_append_only()")
    op.execute("CREATE TRIGGER history_entry_no_truncate BEFORE TRUNCATE ON history_entry"
               " FOR EACH STATEMENT EXECUTE FUNCTION bpm_history_is_append_only()")
    _make_partitions(HISTORY, _months(
        f"SELECT min(i.started_at) FROM process_instance i WHERE EXISTS (SELECT 1 FROM {old} h"
        " WHERE h.instance_id = i.id)"))
    columns = ", ".join(HISTORY_COLUMNS)
    op.execute(f"INSERT INTO history_entry ({columns}, instance_started_at)"
               f" SELECT {', '.join('h.' + c for c in HISTORY_COLUMNS)}, i.started_at"
               f" FROM {old} h JOIN process_instance i ON i.id = h.instance_id")
    op.execute(f"DROP TABLE {old}")


def _partition_admin_chain() -> None:
    old = _set_aside("audit_event", "uq_audit_event_position", ("ix_audit_event_subject",))
    op.execute(f"CREATE TABLE audit_event (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS,"
               " CONSTRAINT audit_event_pkey PRIMARY KEY (id, at)) PARTITION BY RANGE (at)")
    op.execute("ALTER SEQUENCE audit_event_id_seq OWNED BY audit_event.id")
    op.execute("CREATE INDEX ix_audit_event_subject ON audit_event (subject)")
    op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event"
               " FOR EACH ROW EXECUTE FUNCTION bpm_audit_event_is_append_only()")
    op.execute("CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event"
               " FOR EACH STATEMENT EXECUTE FUNCTION bpm_audit_event_is_append_only()")
    _make_partitions(ADMIN_CHAIN, _months(f"SELECT min(at) FROM {old}"))
    columns = ", ".join(EVENT_COLUMNS)
    op.execute(f"INSERT INTO audit_event ({columns}) SELECT {columns} FROM {old}")
    op.execute(f"DROP TABLE {old}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _unpartition("history_entry", HISTORY_COLUMNS, (
            "ALTER TABLE history_entry ADD CONSTRAINT history_entry_pkey PRIMARY KEY (id)",
            "ALTER TABLE history_entry ADD CONSTRAINT history_entry_instance_id_fkey FOREIGN KEY (instance_id)"
            " REFERENCES process_instance (id)",
            "ALTER TABLE history_entry ADD CONSTRAINT uq_history_entry_chain_position UNIQUE (instance_id, position)",
            "CREATE INDEX ix_history_entry_instance_revision ON history_entry (instance_id, revision)",
            "CREATE UNIQUE INDEX uq_history_entry_snapshot_revision ON history_entry (instance_id, revision)"
            " WHERE task_id IS NULL",
        ), "bpm_history_is_append_only")
        _unpartition("audit_event", EVENT_COLUMNS, (
            "ALTER TABLE audit_event ADD CONSTRAINT audit_event_pkey PRIMARY KEY (id)",
            "ALTER TABLE audit_event ADD CONSTRAINT uq_audit_event_position UNIQUE (position)",
            "CREATE INDEX ix_audit_event_subject ON audit_event (subject)",
        ), "bpm_audit_event_is_append_only")
        return
    op.drop_index("uq_history_entry_snapshot_revision", "history_entry")
    with op.batch_alter_table("history_entry") as history:
        history.drop_constraint("uq_history_entry_chain_position", type_="unique")
        history.create_unique_constraint("uq_history_entry_chain_position", ["instance_id", "position"])
        history.drop_column("instance_started_at")
        history.create_foreign_key(FOREIGN_KEY, "process_instance", ["instance_id"], ["id"])
    op.create_index("uq_history_entry_snapshot_revision", "history_entry", ["instance_id", "revision"],
                    unique=True, sqlite_where=sa.text("task_id IS NULL"))


def _unpartition(table: str, columns: tuple[str, ...], keys: tuple[str, ...], guard: str) -> None:
    """The table as one plain table again, its rows copied back (a partitioned table cannot be made plain)."""
    partitioned = f"{table}_partitioned"
    op.execute(f"ALTER TABLE {table} RENAME TO {partitioned}")
    op.execute(f"ALTER TABLE {partitioned} RENAME CONSTRAINT {table}_pkey TO {partitioned}_pkey")
    for index in op.get_bind().execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE tablename = :t AND indexname NOT LIKE '%pkey'"), {"t": partitioned}):
        op.execute(f'ALTER INDEX "{index[0]}" RENAME TO "{index[0]}_partitioned"')
    listed = ", ".join(columns)
    op.execute(f"CREATE TABLE {table} (LIKE {partitioned} INCLUDING DEFAULTS)")
    if table == "history_entry":
        op.execute("ALTER TABLE history_entry DROP COLUMN instance_started_at")
    op.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {partitioned}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for statement in keys:
        op.execute(statement)
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
               f" FOR EACH ROW EXECUTE FUNCTION {guard}()")
    op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
               f" FOR EACH STATEMENT EXECUTE FUNCTION {guard}()")
    op.execute(f"DROP TABLE {partitioned}")
