"""PostgreSQL: the history and the admin chain are partitioned by month, and the months ahead are made here.

Which month a row belongs to:

- ``history_entry`` by the month its **instance started** (``instance_started_at``, written with every entry).
  Every read of the history is an instance's (its timeline, its task pages, verify, exports of the instances
  a search found), so all of an instance's entries sit in one partition and a reader that knows when the
  instance started reads one partition, not all of them. And because the instance fixes the month, the
  chain's unique constraints — one entry per position, one snapshot per revision — stay what they were,
  checked across the whole table (a unique key of a partitioned table must hold its partition key; here
  that key adds nothing to the instance). Partitioned by the entry's own time, both would only hold within
  a month, and every instance's read would visit every month.
- ``audit_event`` (the admin chain: one chain, read whole by verify) by the month of ``at``. Its position is
  unique within each month's partition (an index made with the partition): the head the appender locks is
  what keeps the chain from forking; the index is the second line, as for an instance's chain.

Rows for a month nobody made go to the ``_default`` partition, so a write never fails for want of a
partition. ``make_months`` makes the next ``MONTHS_AHEAD`` months (the worker calls it every hour; ``bpm db
partitions`` does it by hand or from cron): three months of hourly chances to get its locks, each waited for
at most ``LOCK_TIMEOUT``. A month whose rows are already in the default partition (the worker was stopped
for months, or a clock was wrong) is not made: its rows stay where they are, correct and readable, and the
log says so.

Each partition refuses TRUNCATE by its own trigger (PostgreSQL runs a table's TRUNCATE trigger only for
that table, while row triggers — UPDATE and DELETE refused — are inherited from the parent). SQLite has no
partitions: there the tables are plain and none of this runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

MONTHS_AHEAD = 3
LOCK_TIMEOUT = "1s"  # how long making a month may wait for its locks; it is tried again an hour later


@dataclass(frozen=True)
class Partitioned:
    """A table partitioned by month: its name, the column that says the month, and what each month needs."""

    table: str
    key: str
    truncate_guard: str  # the append-only function its TRUNCATE trigger runs
    unique_per_month: tuple[str, ...] = ()  # columns unique within each month's partition


HISTORY = Partitioned("history_entry", "instance_started_at", "bpm_history_is_append_only")
ADMIN_CHAIN = Partitioned("audit_event", "at", "bpm_audit_event_is_append_only", unique_per_month=("position",))
TABLES = (HISTORY, ADMIN_CHAIN)

_PARTITION_NAME = re.compile(r"^(history_entry|audit_event)_(y\d{4}m\d{2}|default)$")


def is_partition(name: str) -> bool:
    """Whether a table is one of these partitions (a schema comparison looks at the partitioned tables only)."""
    return _PARTITION_NAME.match(name) is not None


UNIQUE_PER_MONTH = frozenset({"uq_audit_event_position"})  # the models' uniques each partition holds instead


def compared_with_the_models(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's ``include_object`` for comparing a ``dialect`` database with the models: what they can say.

    Left out, on PostgreSQL: the partitions (the models say the partitioned table), the admin chain's unique
    position (each month's partition holds it, its parent cannot: see above) and the trigram indexes of the
    auditor's search (expressions over ``gin_trgm_ops``, migration 0026).
    """
    postgresql = dialect == "postgresql"

    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        if not postgresql:
            return True
        if kind == "table" and reflected and is_partition(str(name)):
            return False
        if kind == "unique_constraint" and name in UNIQUE_PER_MONTH:
            return False
        return not (kind == "index" and reflected and str(name).endswith("_trgm"))

    return include


def month_of(when: dt.datetime | dt.date) -> dt.date:
    """The first day of ``when``'s month (UTC)."""
    if isinstance(when, dt.datetime):
        when = when.astimezone(dt.UTC) if when.tzinfo else when
    return dt.date(when.year, when.month, 1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from ``first``'s to ``last``'s, both included."""
    found, month = [], month_of(first)
    while month <= month_of(last):
        found.append(month)
        month = next_month(month)
    return found


def partition_name(table: Partitioned, month: dt.date) -> str:
    return f"{table.table}_y{month.year:04}m{month.month:02}"


def _bound(month: dt.date) -> str:
    return f"'{month.isoformat()} 00:00:00+00'"


def partition_ddl(table: Partitioned, month: dt.date | None) -> list[str]:
    """The statements that make one month's partition (``None``: the default partition) with its guards, in one
    transaction (the migration's: nothing else runs then). ``make_months`` splits them in two."""
    if month is None:
        name = f"{table.table}_default"
        return [f"CREATE TABLE {name} PARTITION OF {table.table} DEFAULT", *_guards(table, name)]
    return [*_prepared(table, month), _attach(table, month)]


def _prepared(table: Partitioned, month: dt.date) -> list[str]:
    """A month's table on its own, with everything it needs as a partition but the attaching: its TRUNCATE
    guard and unique keys. (Neither table has a foreign key: attaching a partition of a table with one locks
    the referenced table, which deadlocked with the writers that had read it — history_entry's key to the
    instances was dropped for that, migration 0027.)"""
    name = partition_name(table, month)
    return [f"CREATE TABLE {name} (LIKE {table.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
            *_guards(table, name)]


def _attach(table: Partitioned, month: dt.date) -> str:
    return (f"ALTER TABLE {table.table} ATTACH PARTITION {partition_name(table, month)} "
            f"FOR VALUES FROM ({_bound(month)}) TO ({_bound(next_month(month))})")


def _guards(table: Partitioned, name: str) -> list[str]:
    statements = [f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                  f"FOR EACH STATEMENT EXECUTE FUNCTION {table.truncate_guard}()"]
    if table.unique_per_month:
        columns = ", ".join(table.unique_per_month)
        statements.append(f"CREATE UNIQUE INDEX uq_{name}_{'_'.join(table.unique_per_month)} ON {name} ({columns})")
    return statements


def existing(connection: Connection, table: Partitioned) -> set[str]:
    """The names of ``table``'s partitions."""
    rows = connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:table)"), {"table": table.table})
    return {str(name) for (name,) in rows}


@dataclass(frozen=True)
class Made:
    """What ``make_months`` did: the partitions it made, and the months it could not make (and why)."""

    made: list[str]
    skipped: list[tuple[str, str]]


def make_months(engine: Engine, today: dt.date, ahead: int = MONTHS_AHEAD) -> Made:
    """Make the partitions of the ``ahead`` months after this one, of every partitioned table, where missing.

    Months to come only: rows are written with the time they happen (or their instance started), so no
    one writes into a month before it begins, and attaching it cannot race a write. (A row that PostgreSQL
    routed to the default partition before a month covering it was attached fails its partition check when
    the attach commits.) This month was made by the migration, or by this an hour or three months before.

    Each month in two transactions. The first makes its table on its own, with its guards and unique keys:
    no one else can see it yet. The second attaches it: that locks the partitioned table only against other
    schema changes, not against reads and writes, and the default partition while it checks it holds no rows
    of that month (writers of that partition wait that long; no one waits on them in turn).
    A month that cannot be made (a lock not granted within ``LOCK_TIMEOUT``, rows for it in the default
    partition, a role that may not create tables) is skipped and named, its table dropped again; the other
    months are made.
    """
    if engine.dialect.name != "postgresql":
        return Made([], [])
    months = months_between(next_month(month_of(today)), _add_months(month_of(today), ahead)) if ahead else []
    made: list[str] = []
    skipped: list[tuple[str, str]] = []
    for table in TABLES:
        with engine.connect() as connection:
            have = existing(connection, table)
        for month in months:
            name = partition_name(table, month)
            if name in have:
                continue
            try:
                _drop_unattached(engine, name)  # left by an attempt that stopped halfway
                for statements in (_prepared(table, month), [_attach(table, month)]):
                    with engine.begin() as connection:
                        connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                        for statement in statements:
                            connection.execute(text(statement))
                made.append(name)
            except DBAPIError as error:
                reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
                skipped.append((name, reason))
                logger.warning("partition %s not made: %s", name, reason)
                _drop_unattached(engine, name)
    return Made(made, skipped)


def _drop_unattached(engine: Engine, name: str) -> None:
    """Drop ``name`` if it is a table of ours made for a month and never attached — and empty: only this
    module makes such tables and nothing writes to one before it is attached, so one with rows is left be."""
    try:
        with engine.begin() as connection:
            connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            unattached = connection.execute(text(
                "SELECT to_regclass(:name) IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(:name))"), {"name": name}).scalar()
            if unattached and connection.execute(text(f"SELECT NOT EXISTS (SELECT 1 FROM {name})")).scalar():
                connection.execute(text(f"DROP TABLE {name}"))
    except DBAPIError as error:
        logger.warning("partition %s: its unattached table was not dropped: %s", name, error.orig or error)


def _add_months(month: dt.date, count: int) -> dt.date:
    for _ in range(count):
        month = next_month(month)
    return month


@dataclass(frozen=True)
class PartitionRows:
    """One partition and what it holds, for ``bpm db partitions``."""

    table: str
    name: str
    bounds: str
    rows: int  # PostgreSQL's estimate (pg_class.reltuples), not a count: counting would read every row


def listing(engine: Engine) -> list[PartitionRows]:
    """Every partition of the partitioned tables, in order of their bounds."""
    if engine.dialect.name != "postgresql":
        return []
    found = []
    with engine.connect() as connection:
        for table in TABLES:
            rows = connection.execute(text(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint "
                "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:table) ORDER BY c.relname"), {"table": table.table})
            found.extend(PartitionRows(table.table, str(n), str(b), int(r)) for n, b, r in rows)
    return found
