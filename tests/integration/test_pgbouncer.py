"""The service through a real PgBouncer in transaction mode (``BPM_DATABASE_POOLER=transaction``): approvals from
several threads over fewer server connections than clients, a lost race, the worker's timers and the audit chain
all work, and nothing is left PREPAREd (a statement prepared on one server connection is not on the next)."""

from __future__ import annotations

import os
import threading

import psycopg
import pytest
from sqlmodel import select

from bench import pgbouncer
from bpm.app import create_app
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.audit import verify
from bpm.runtime.definitions import import_definition
from bpm.runtime.instances import start_instance
from bpm.scheduler import Worker
from bpm.store.models import HistoryEntry, ProcessInstance
from tests.conftest import EXPENSE, Api

OVERDUE = {"id": "overdue-through-pooler", "name": "Overdue", "nodes": [
    {"id": "s", "type": "start"}, {"id": "t", "type": "timer", "data": {"until": "2019-06-01T09:00:00Z"}},
    {"id": "e", "type": "end"}],
    "edges": [{"id": "a", "source": "s", "target": "t"}, {"id": "b", "source": "t", "target": "e"}]}


@pytest.fixture
def pooled(app, rt, database_url, clock):
    """The app over the same database, through PgBouncer in transaction mode with 3 server connections."""
    if rt.db.dialect.name != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL")
    if not pgbouncer.available():
        if os.environ.get("BPM_REQUIRE_PGBOUNCER"):
            pytest.fail("pgbouncer is not installed (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed")
    with pgbouncer.pgbouncer(database_url, pool_size=3) as url:
        through = create_app({"database_url": url, "database_pooler": "transaction", "dev_identity": True,
                              "db_pool_size": 8}, clock=clock)
        yield through
        through.extensions["bpm"].close()


def test_approvals_from_eight_threads_over_three_server_connections(pooled):
    errors: list[BaseException] = []
    done: list[str] = []

    def approvals(n: int) -> None:
        ann, bob = Api(pooled.test_client(), "ann"), Api(pooled.test_client(), "bob")
        try:
            for round_ in range(4):
                started = ann.post("/api/instances", json={"definition": "expense-approval",
                                                           "payload": {**EXPENSE, "amount": 10 + n + round_}})
                assert started.status_code == 201, started.json
                task_id = started.json["openTasks"][0]["id"]
                finished = bob.post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve"})
                assert finished.status_code == 200, finished.json
                done.append(started.json["id"])
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=approvals, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    rt = pooled.extensions["bpm"]
    with rt.uow() as uow:
        instances = uow.session.exec(select(ProcessInstance).where(ProcessInstance.id.in_(done))).all()
        assert len(instances) == 32 and {i.status for i in instances} == {"completed"}
        found = verify(uow, rt.actor("audrey"))
    assert found.intact and found.chains >= 32, found.broken[:3]


def test_a_lost_race_rolls_back_and_the_pooled_connections_stay_usable(pooled):
    ann = Api(pooled.test_client(), "ann")
    for _ in range(3):
        started = ann.post("/api/instances", json={"definition": "expense-approval",
                                                   "payload": {**EXPENSE, "manager": "admin"}})
        url = f"/api/tasks/{started.json['openTasks'][0]['id']}/complete"
        barrier, codes = threading.Barrier(2), []

        def complete(outcome: str, url: str = url, barrier: threading.Barrier = barrier,
                     codes: list[int] = codes) -> None:
            admin = Api(pooled.test_client(), "admin")
            barrier.wait()
            codes.append(admin.post(url, json={"outcome": outcome, "data": {"comment": "x"}}).status_code)

        racers = [threading.Thread(target=complete, args=(o,)) for o in ("approve", "reject")]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=60)
        assert sorted(codes) == [200, 409]
    assert ann.get("/api/instances?status=completed").status_code == 200


def test_the_worker_fires_timers_through_the_pooler(pooled, clock):
    rt = pooled.extensions["bpm"]
    import_definition(rt, SYSTEM_ACTOR, OVERDUE)
    ids = [start_instance(rt, SYSTEM_ACTOR, OVERDUE["id"], {})[0].id for _ in range(20)]
    fired = Worker(rt, name="through-pooler").tick()
    assert fired["fired"] == 20 or sum(fired.values()) >= 20, fired
    with rt.uow() as uow:
        ended = uow.session.exec(select(ProcessInstance.status).where(ProcessInstance.id.in_(ids))).all()
        timers = uow.session.exec(select(HistoryEntry.instance_id).where(
            HistoryEntry.cause == "timer_fired", HistoryEntry.instance_id.in_(ids))).all()
    assert set(ended) == {"completed"} and sorted(timers) == sorted(ids)


def test_no_statement_is_prepared_through_the_pooler(pooled, monkeypatch):
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def watched(self, query, params=None, **kwargs):
        sent.append(query if isinstance(query, str) else query.as_string(self))
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", watched)
    ann, bob = Api(pooled.test_client(), "ann"), Api(pooled.test_client(), "bob")
    started = ann.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    assert bob.post(f"/api/tasks/{started.json['openTasks'][0]['id']}/complete",
                    json={"outcome": "approve"}).status_code == 200
    assert sent and not [q for q in sent if "PREPARE " in q or "EXECUTE " in q]
    assert any(";\n" in q and "INSERT INTO process_instance" in q for q in sent)  # still one batch
