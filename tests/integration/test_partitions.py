"""PostgreSQL keeps the history by the month its instance started and the admin chain by month: the worker makes
the months to come, each refuses to be changed or emptied, an instance's reads touch its month only, rows for a
month nobody made wait in the default partition, and the chain's unique keys hold across the whole table."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bpm.cli import main as cli
from bpm.runtime.audit import verify
from bpm.runtime.instances import start_instance
from bpm.runtime.tasks import comment_on_task, complete_task
from bpm.scheduler import Worker
from bpm.store import partitions
from bpm.store.models import HistoryEntry
from bpm.store.repositories.history import kept_where

from ..conftest import EXPENSE, tamper


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


@pytest.fixture
def postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite keeps the history in one table")


def _where(rt, table: str, instance_id: str | None = None) -> set[str]:
    """The partitions holding ``table``'s rows (of one instance)."""
    where = " WHERE instance_id = :i" if instance_id else ""
    with rt.db.connect() as connection:
        return {str(name) for (name,) in connection.execute(
            text(f"SELECT DISTINCT tableoid::regclass::text FROM {table}{where}"), {"i": instance_id})}


def _intact(rt, instance_id: str | None = None) -> bool:
    with rt.uow() as uow:
        return verify(uow, rt.actor("audrey"), instance_id).intact


def test_the_worker_makes_the_next_three_months_and_each_refuses_to_be_changed(rt, clock, postgresql):
    clock.set(_ms(dt.datetime(2031, 5, 10, 9, tzinfo=dt.UTC)))
    Worker(rt).deliver()
    names = {row.name for row in partitions.listing(rt.db)}
    for month in ("2031m06", "2031m07", "2031m08"):
        assert {f"history_entry_y{month}", f"audit_event_y{month}"} <= names
    assert not {"history_entry_y2031m05", "history_entry_y2031m09"} & names, "months to come only, three"

    clock.set(_ms(dt.datetime(2031, 6, 2, tzinfo=dt.UTC)))
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    clock.set(_ms(dt.datetime(2031, 7, 1, tzinfo=dt.UTC)))  # decided the next month: kept with its start
    complete_task(rt, rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    assert _where(rt, "history_entry", instance.id) == {"history_entry_y2031m06"}
    for statement in ("UPDATE history_entry_y2031m06 SET actor = 'mallory'",
                      "DELETE FROM history_entry_y2031m06",
                      "TRUNCATE history_entry_y2031m06", "TRUNCATE history_entry_y2031m07",
                      "TRUNCATE audit_event_y2031m06", "TRUNCATE audit_event_y2031m07"):
        with pytest.raises(Exception, match="is append-only"), rt.db.begin() as connection:
            connection.execute(text(statement))
    assert _intact(rt, instance.id)


def test_an_instances_history_is_read_from_the_month_it_started_only(rt, clock, postgresql):
    clock.set(_ms(dt.datetime(2031, 5, 31, 23, 59, tzinfo=dt.UTC)))
    partitions.make_months(rt.db, dt.date(2031, 4, 1), ahead=2)
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    clock.advance(120_000)
    comment_on_task(rt, rt.actor("bob"), run.created_tasks[0].id, "on it")
    for started_at in (instance.started_at, None):  # told when it started, or finding it out in the same query
        statement = select(HistoryEntry).where(*kept_where(instance.id, started_at)).compile(dialect=rt.db.dialect)
        with rt.db.connect() as connection:
            (plan,) = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}",
                                                 statement.params).scalar_one()
        assert _history_partitions_read(plan["Plan"]) == {"history_entry_y2031m05"}, (started_at, plan)
    with rt.uow() as uow:
        assert [e.cause for e in uow.history.of_instance(instance.id)] == ["started", "task_created",
                                                                           "task_commented"]


def _history_partitions_read(node: dict) -> set[str]:
    """The history partitions a plan (EXPLAIN ANALYZE) actually scanned."""
    found = set()
    if node.get("Relation Name", "").startswith("history_entry") and node.get("Actual Loops", 0) > 0:
        found.add(node["Relation Name"])
    for child in node.get("Plans", []):
        found |= _history_partitions_read(child)
    return found


def test_rows_of_a_month_nobody_made_wait_in_the_default_partition_and_that_month_is_not_made_over_them(
        rt, clock, postgresql):
    clock.set(_ms(dt.datetime(2034, 3, 5, tzinfo=dt.UTC)))
    instance, run = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    assert _where(rt, "history_entry", instance.id) == {"history_entry_default"}
    done = partitions.make_months(rt.db, dt.date(2034, 2, 5), ahead=1)
    assert done.made == ["audit_event_y2034m03"]
    ((name, reason),) = done.skipped
    assert name == "history_entry_y2034m03" and "default partition" in reason
    complete_task(rt, rt.actor("bob"), run.created_tasks[0].id, "approve", {})
    assert _where(rt, "history_entry", instance.id) == {"history_entry_default"}
    assert _intact(rt)


def test_one_entry_per_place_in_a_chain_across_the_whole_table(rt, clock):
    instance, _ = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    with pytest.raises(IntegrityError, match=r"duplicate key|UNIQUE constraint failed"):
        tamper(rt, "INSERT INTO history_entry (instance_id, instance_started_at, revision, at, actor, cause, status,"
                   " delta, task_id, position) SELECT id, started_at, 1, started_at, 'mallory', 'task_commented',"
                   " 'paused', '{}', 'forged', 1 FROM process_instance WHERE id = :i", i=instance.id)
    with pytest.raises(IntegrityError, match=r"duplicate key|UNIQUE constraint failed"):
        tamper(rt, "INSERT INTO history_entry (instance_id, instance_started_at, revision, at, actor, cause, status,"
                   " delta, position) SELECT id, started_at, 1, started_at, 'mallory', 'started', 'paused', '{}', 9"
                   " FROM process_instance WHERE id = :i", i=instance.id)
    assert _intact(rt, instance.id)


def test_bpm_db_partitions_makes_the_months_ahead_and_lists_them(database_url, monkeypatch):
    monkeypatch.setenv("BPM_DATABASE_URL", database_url)
    made = CliRunner().invoke(cli, ["db", "partitions", "--ahead", "1"])
    assert made.exit_code == 0, made.output
    if not database_url.startswith("postgresql"):
        assert "nothing to partition" in made.output
        return
    next_month = partitions.next_month(partitions.month_of(dt.datetime.now(dt.UTC)))
    name = f"history_entry_y{next_month.year:04}m{next_month.month:02}"
    assert name in made.output and "history_entry_default" in made.output
    listed = CliRunner().invoke(cli, ["db", "partitions", "--list"])
    assert listed.exit_code == 0 and "made" not in listed.output and name in listed.output
