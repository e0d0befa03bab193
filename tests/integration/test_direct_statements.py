"""DirectStatements store and read exactly what SQLAlchemy's own path does, in the unit's transaction."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import bindparam, or_, select

from bpm.errors import ConflictError
from bpm.store.direct import CompiledForDriver, DirectStatement
from bpm.store.models import Group, HistoryEntry, ProcessInstance, ProcessInstanceRecord
from bpm.store.statements import load_record
from tests.conftest import EXPENSE

AWKWARD_JSON = {"text": "naïve ✓ \"quoted\" \\ back", "n": [1, 2.5, -3, None, True], "nested": {"empty": {}}}


def _instance(rt) -> ProcessInstanceRecord:
    from bpm.runtime.instances import start_instance

    instance, _ = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    return instance


def _instance_id(rt) -> str:
    return _instance(rt).id


def test_values_written_directly_read_back_the_same_through_sqlalchemy(rt):
    instance = _instance(rt)
    instance_id = instance.id
    at = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with rt.uow() as uow:
        uow.insert_values(HistoryEntry, instance_id=instance_id, instance_started_at=instance.started_at,
                          revision=99, at=at, actor="direct", cause="test",
                          node_id=None, status="paused", snapshot_version=7, delta=AWKWARD_JSON)
        uow.commit()
    with rt.uow() as uow:
        entry = uow.session.exec(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id,
                                                            HistoryEntry.revision == 99)).one()
    assert entry[0].delta == AWKWARD_JSON
    assert entry[0].at == at and entry[0].at.tzinfo == dt.UTC  # stored as UTC, read back aware


def test_values_written_through_sqlalchemy_read_back_the_same_directly(rt):
    instance_id = _instance_id(rt)
    with rt.uow() as uow:
        through_orm = {row.revision: row for row in uow.session.exec(  # the snapshot revisions (not task events)
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id,
                                       HistoryEntry.task_id.is_(None))).scalars()}
        orm_instance = uow.session.get(ProcessInstance, instance_id)
        direct = load_record(uow, ProcessInstanceRecord, instance_id)
    assert direct is not None and orm_instance is not None
    assert direct.model_dump() == orm_instance.model_dump()
    assert direct.started_at.tzinfo == dt.UTC and direct.snapshot["status"] == "paused"
    statement = DirectStatement(select(HistoryEntry.revision, HistoryEntry.at, HistoryEntry.delta)
                                .where(HistoryEntry.instance_id == bindparam("id"), HistoryEntry.task_id.is_(None))
                                .order_by(HistoryEntry.revision))
    with rt.uow() as uow:
        rows = statement.all(uow, {"id": instance_id})
    assert [(revision, at, delta) for revision, at, delta in rows] == [
        (entry.revision, entry.at, entry.delta) for entry in through_orm.values()]


def test_a_bind_used_twice_and_a_value_bound_in_the_statement(rt):
    """Positional drivers (SQLite) need every occurrence in order; LIMIT's value lives in the statement."""
    with rt.uow() as uow:
        uow.insert_values(Group, name="alpha-x", display_name="Alpha")
        uow.insert_values(Group, name="beta-x", display_name="alpha-x")
        uow.commit()
    statement = DirectStatement(select(Group.name).where(or_(Group.name == bindparam("n"),
                                                             Group.display_name == bindparam("n")))
                                .order_by(Group.name).limit(1))
    with rt.uow() as uow:
        assert statement.all(uow, {"n": "alpha-x"}) == [("alpha-x",)]
        assert statement.first(uow, {"n": "nobody"}) is None


def test_direct_writes_share_the_transaction_with_the_orm(rt):
    with rt.uow() as uow:
        uow.insert_values(Group, name=f"g-{uuid.uuid4().hex[:6]}", display_name="Shared")
        uow.flush_writes()  # sent, not committed
        assert uow.session.exec(select(Group).where(Group.display_name == "Shared")).first() is not None
    with rt.uow() as uow:  # left without commit: gone, whichever path wrote it
        assert uow.session.exec(select(Group).where(Group.display_name == "Shared")).first() is None


def test_a_duplicate_key_from_a_direct_insert_is_a_conflict(rt):
    with rt.uow() as uow:
        uow.insert_values(Group, name="twice", display_name="Twice")
        uow.commit()
    with pytest.raises(ConflictError), rt.uow() as uow:
        uow.insert_values(Group, name="twice", display_name="Twice again")
        uow.commit()


def test_a_direct_statement_serves_many_threads_and_keeps_its_compiled_form(rt, monkeypatch):
    with rt.uow() as uow:
        uow.insert_values(Group, name="threaded", display_name="Threaded")
        uow.commit()
    statement = DirectStatement(select(Group.display_name).where(Group.name == bindparam("n")))
    answers: list[object] = []

    def use() -> None:
        with rt.uow() as uow:
            answers.append(statement.first(uow, {"n": "threaded"}))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [("Threaded",)] * 4
    # kept: threads racing at first use may each compile, but later uses compile nothing
    compiles = []
    original = CompiledForDriver.compile
    monkeypatch.setattr(CompiledForDriver, "compile", lambda *a, **k: compiles.append(1) or original(*a, **k))
    use()
    use()
    assert answers[-2:] == [("Threaded",)] * 2 and compiles == []


def test_text_that_looks_like_sql_is_stored_verbatim_by_a_batch_of_writes(rt):
    """On PostgreSQL a unit's writes travel as one query with client-side bound values: quoting must hold."""
    hostile = ["x'); DROP TABLE bpm_group; --", "back\\slash \\' and \"double\"", "$1 %s %(name)s ;; $$ E'\\x41'",
               "naïve ✓ 名前 \U0001f600", "line\nbreak\ttab"]
    with rt.uow() as uow:
        for number, text in enumerate(hostile):
            uow.insert_values(Group, name=f"hostile-{number}", display_name=text)
        uow.commit()
    shown = DirectStatement(select(Group.display_name).where(Group.name == bindparam("name")))
    with rt.uow() as uow:
        assert [shown.first(uow, {"name": f"hostile-{n}"}) for n in range(len(hostile))] == [(t,) for t in hostile]
        assert uow.execute(select(Group.name).where(Group.name == "hostile-0")).scalar_one() == "hostile-0"
