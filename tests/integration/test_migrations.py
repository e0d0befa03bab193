"""Schema changes only through Alembic: the migrations must build exactly the models' schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from bpm.store.db import make_engine
from bpm.store.migrate import MIGRATIONS, alembic_config, current_revision, downgrade, head_revision, upgrade
from bpm.store.models import Task, metadata
from bpm.store.partitions import compared_with_the_models

from ..conftest import BACKENDS, _create_postgres_database, _drop_postgres_database

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _differences_from_the_models(database_url: str) -> list:
    """What Alembic's autogenerate would change to make the database match the models."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection, opts={
                "compare_type": True, "include_object": compared_with_the_models(engine.dialect.name)}), metadata)
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_models(database_url):
    assert _differences_from_the_models(database_url) == []


def test_the_database_is_at_the_newest_revision_and_upgrading_again_is_harmless(database_url):
    head = head_revision()
    assert current_revision(database_url) == head
    upgrade(database_url)
    assert current_revision(database_url) == head


def test_there_is_one_linear_history_of_revisions():
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1
    assert [r.revision for r in script.walk_revisions()][::-1] == [f"{n:04}" for n in range(1, 30)]


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path) -> Iterator[str]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url, name = _create_postgres_database()
    yield url
    _drop_postgres_database(name)


def _instance_with_tasks(connection, statuses: dict[str, str], lists: str = "") -> None:
    """One definition, one instance, and a task of each given id and status.

    The SQL is valid from revision 0001 on; from 0002 on, ``lists`` gives the
    SQL values of the task's candidate_users and candidate_groups.
    """
    connection.execute(text(
        "INSERT INTO process_definition (id, key, version, status, name, body, checksum, created_by,"
        " created_at, updated_at) VALUES (1, 'p', 1, 'published', 'P', '{}', 'x', 'a', :t, :t)"), {"t": NOW})
    connection.execute(text(
        "INSERT INTO process_instance (id, definition_id, definition_key, definition_version, status,"
        " snapshot, revision, started_by, started_at, updated_at)"
        " VALUES ('i', 1, 'p', 1, 'paused', '{}', 1, 'a', :t, :t)"), {"t": NOW})
    for task_id, status in statuses.items():
        columns, values = (", candidate_users, candidate_groups", f", {lists}") if lists else ("", "")
        connection.execute(text(
            f"INSERT INTO task (id, instance_id, node_id, definition_key, title, outcomes, priority, status,"
            f" revision, created_at{columns}) VALUES (:id, 'i', 'n', 'p', 'T', '[]', 50, :status, 1, :t{values})"),
            {"id": task_id, "status": status, "t": NOW})


def _offer(connection, task_id: str, candidates: tuple[tuple[str, str], ...]) -> None:
    for kind, name in candidates:
        connection.execute(text("INSERT INTO task_candidate (task_id, kind, name) VALUES (:id, :k, :n)"),
                           {"id": task_id, "k": kind, "n": name})


def _candidate_rows(connection) -> list[tuple[str, str, str]]:
    return sorted(tuple(row) for row in connection.execute(text("SELECT task_id, kind, name FROM task_candidate")))


def test_0002_copies_existing_candidates_onto_their_tasks_and_loses_no_row(empty_database):
    upgrade(empty_database, "0001")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            _instance_with_tasks(connection, {"offered": "open", "assigned": "open"})
            _offer(connection, "offered", (("group", "finance"), ("user", "zoe"), ("user", "bob"), ("group", "audit")))
            connection.execute(text("INSERT INTO task_comment (task_id, author, body, created_at)"
                                    " VALUES ('offered', 'bob', 'on it', :t)"), {"t": NOW})
        upgrade(empty_database)
        with engine.connect() as connection:
            rows = connection.execute(select(Task.id, Task.candidate_users, Task.candidate_groups)
                                      .order_by(Task.id)).all()
            # SQLite rebuilds the task table; with foreign keys on, dropping the old one cascaded into these.
            assert connection.execute(text("SELECT count(*) FROM task_candidate")).scalar() == 4
            assert connection.execute(text("SELECT count(*) FROM task_comment")).scalar() == 1
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("assigned", [], []), ("offered", ["bob", "zoe"], ["audit", "finance"])]


def test_0003_keeps_only_the_offers_of_claimable_tasks_with_their_urgency_and_its_downgrade_restores_all(
        empty_database):
    from alembic import command

    offers = (("group", "finance"), ("user", "zoe"))
    tasks = {"waiting": "open", "taken": "open", "done": "completed", "stopped": "cancelled"}
    upgrade(empty_database, "0002")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            _instance_with_tasks(connection, tasks, lists="""'["zoe"]', '["finance"]'""")
            connection.execute(text("UPDATE task SET assignee = 'zoe' WHERE id = 'taken'"))
            connection.execute(text("UPDATE task SET priority = 80, due_at = :t WHERE id = 'waiting'"),
                               {"t": NOW + dt.timedelta(days=2)})
            for task_id in tasks:
                _offer(connection, task_id, offers)
        upgrade(empty_database, "0003")
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT task_id, kind, name, definition_key, priority, due_at, created_at"
                                           " FROM task_candidate ORDER BY kind")).all()
        assert [tuple(row[:5]) for row in kept] == [("waiting", "group", "finance", "p", 80),
                                                     ("waiting", "user", "zoe", "p", 80)]
        assert all(row[5] is not None and row[6] is not None for row in kept)
        command.downgrade(alembic_config(empty_database), "0002")
        with engine.connect() as connection:
            assert _candidate_rows(connection) == sorted((task_id, kind, name) for task_id in tasks
                                                         for kind, name in offers)
    finally:
        engine.dispose()


def test_every_revision_downgrades_and_upgrades_again(empty_database):
    from alembic import command

    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    assert _differences_from_the_models(empty_database) == []


def _paused_instance(connection, instance_id: str, at: str) -> None:
    """An instance at revision 2 (and its definition, the first time), in SQL valid from revision 0001 on."""
    connection.execute(text(
        "INSERT INTO process_definition (id, key, version, status, name, body, checksum, created_by, created_at,"
        " updated_at) SELECT 1, 'p', 1, 'published', 'P', '{}', 'x', 'a', :t, :t"
        " WHERE NOT EXISTS (SELECT 1 FROM process_definition WHERE id = 1)"), {"t": at})
    connection.execute(text(
        "INSERT INTO process_instance (id, definition_id, definition_key, definition_version, status, snapshot,"
        " revision, started_by, started_at, updated_at) VALUES (:i, 1, 'p', 1, 'paused', '{}', 2, 'a', :t, :t)"),
        {"i": instance_id, "t": at})


def test_history_written_before_the_chain_existed_is_chained_by_the_migration(empty_database):
    from bpm.runtime import SYSTEM_ACTOR
    from bpm.runtime.audit import verify
    from bpm.store.models import HistoryEntry

    upgrade(empty_database, "0014")
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            _paused_instance(connection, "i", "2026-01-01 00:00:00")
            for revision, cause in ((1, "started"), (2, "task_completed")):
                connection.execute(text(
                    "INSERT INTO history_entry (instance_id, revision, at, actor, cause, status, delta)"
                    " VALUES ('i', :r, '2026-01-01 00:00:00.250000', 'ann', :c, 'paused', '{\"x\": 1.0}')"),
                    {"r": revision, "c": cause})
        upgrade(empty_database)
    finally:
        engine.dispose()
    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import Runtime

    rt = Runtime.build(Settings(database_url=empty_database), SystemClock())
    try:
        with rt.uow() as uow:
            found = verify(uow, SYSTEM_ACTOR)
            positions = uow.session.execute(select(HistoryEntry.position).order_by(HistoryEntry.id)).scalars().all()
        assert found.intact and found.entries == 2 and list(positions) == [1, 2]
    finally:
        rt.close()


def test_0027_keeps_each_entry_by_its_instance_start_and_its_downgrade_puts_every_row_back(empty_database):
    """The history's rows move (on PostgreSQL into the month their instance started), ids, hashes and chains
    unchanged, and the admin chain's with them; the downgrade brings back the same rows."""
    upgrade(empty_database, "0026")
    engine = make_engine(empty_database)
    started = {"i": "2025-11-15 09:00:00", "j": "2026-02-03 10:00:00"}
    history = ("id", "instance_id", "revision", "at", "actor", "cause", "position", "prev_hash", "entry_hash")
    try:
        with engine.begin() as connection:
            for instance_id, at in started.items():
                _paused_instance(connection, instance_id, at)
                for position in (1, 2):
                    connection.execute(text(
                        "INSERT INTO history_entry (instance_id, revision, at, actor, cause, status, delta, position,"
                        " prev_hash, entry_hash) VALUES (:i, :p, '2026-03-01 00:00:00', 'ann', 'started', 'paused',"
                        " '{}', :p, :prev, :hash)"), {"i": instance_id, "p": position, "prev": f"{position - 1}",
                                                      "hash": f"{instance_id}{position}"})
            connection.execute(text(
                "INSERT INTO audit_event (position, at, actor, cause, subject, details, prev_hash, entry_hash)"
                " VALUES (1, '2026-02-10 00:00:00', 'dana', 'published', 'definition:p:1', '{}', 'g', 'h')"))
            before = connection.execute(text(f"SELECT {', '.join(history)} FROM history_entry ORDER BY id")).all()
        upgrade(empty_database)
        with engine.connect() as connection:
            after = connection.execute(text(f"SELECT {', '.join(history)} FROM history_entry ORDER BY id")).all()
            kept_by = dict(connection.execute(text(
                "SELECT DISTINCT h.instance_id, h.instance_started_at = i.started_at FROM history_entry h"
                " JOIN process_instance i ON i.id = h.instance_id")).all())
            if engine.dialect.name == "postgresql":
                where = connection.execute(text(
                    "SELECT DISTINCT instance_id, tableoid::regclass::text FROM history_entry ORDER BY 1")).all()
                assert [tuple(row) for row in where] == [("i", "history_entry_y2025m11"),
                                                         ("j", "history_entry_y2026m02")]
                assert connection.execute(text("SELECT tableoid::regclass::text FROM audit_event")).scalar() == \
                    "audit_event_y2026m02"
        assert [tuple(row) for row in after] == [tuple(row) for row in before]
        assert kept_by == {"i": True, "j": True}
        downgrade(empty_database, "0026")
        with engine.connect() as connection:
            back = connection.execute(text(f"SELECT {', '.join(history)} FROM history_entry ORDER BY id")).all()
            assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1
        assert [tuple(row) for row in back] == [tuple(row) for row in before]
    finally:
        engine.dispose()
