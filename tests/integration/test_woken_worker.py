"""Workers woken by PostgreSQL (bpm.scheduler.wakeup): a commit that makes work due wakes them at once; an idle
worker looks once per horizon and asks nothing in between."""

from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg
import pytest
from sqlmodel import select

from bpm.engine import ManualClock
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition
from bpm.runtime.instances import start_instance
from bpm.scheduler import Worker
from bpm.scheduler.wakeup import WokenLoop
from bpm.store import wakeups
from bpm.store.models import ProcessInstance

DUE_NOW = {"id": "due-now", "name": "Due now", "nodes": [
    {"id": "s", "type": "start"}, {"id": "t", "type": "timer", "data": {"until": "2019-06-01T09:00:00Z"}},
    {"id": "e", "type": "end"}],
    "edges": [{"id": "a", "source": "s", "target": "t"}, {"id": "b", "source": "t", "target": "e"}]}


def _now(clock: ManualClock):
    return lambda: dt.datetime.fromtimestamp(clock.now_ms() / 1000, tz=dt.UTC)


class SimulatedTime:
    """A loop's sleep that passes the time on a manual clock at once (or stops at a wake-up)."""

    def __init__(self, clock: ManualClock, until_steps: int) -> None:
        self.clock, self.until_steps = clock, until_steps
        self.steps: list[dt.datetime] = []
        self.stop = threading.Event()

    def step(self) -> dt.datetime | None:
        self.steps.append(_now(self.clock)())
        if len(self.steps) >= self.until_steps:
            self.stop.set()
        return None  # nothing known to be due: the horizon decides

    def sleep(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        self.clock.advance(int(seconds * 1000))
        return False


def test_an_idle_loop_steps_once_per_horizon():
    clock = ManualClock(1_767_225_600_000)
    simulated = SimulatedTime(clock, until_steps=11)
    loop = WokenLoop("fire", simulated.step, _now(clock), sleep=simulated.sleep)
    loop.run(simulated.stop)
    gaps = {(b - a).total_seconds() for a, b in zip(simulated.steps, simulated.steps[1:], strict=False)}
    assert gaps == {wakeups.HORIZON.total_seconds()}, "ten minutes idle: ten looks, a minute apart"


def test_a_wake_up_for_sooner_work_steps_then_and_a_later_one_changes_nothing():
    clock = ManualClock(1_767_225_600_000)
    start = _now(clock)()
    simulated = SimulatedTime(clock, until_steps=3)
    loop: WokenLoop

    def step() -> dt.datetime | None:
        if not simulated.steps:  # notifications while the first step runs (one before it, the step reads itself)
            loop.wake(start + dt.timedelta(seconds=15))
            loop.wake(start + dt.timedelta(minutes=5))  # later than the horizon: no effect
        return simulated.step()

    loop = WokenLoop("fire", step, _now(clock), sleep=simulated.sleep)
    loop.run(simulated.stop)
    assert [(at - start).total_seconds() for at in simulated.steps] == [0, 15, 75]


def test_a_wake_up_during_the_step_is_not_lost():
    clock = ManualClock(1_767_225_600_000)
    simulated = SimulatedTime(clock, until_steps=2)
    loop: WokenLoop

    def step() -> dt.datetime | None:
        loop.wake()  # as if a notification came while the step ran
        return simulated.step()

    loop = WokenLoop("fire", step, _now(clock), sleep=simulated.sleep)
    loop.run(simulated.stop)
    assert simulated.steps[1] == simulated.steps[0], "stepped again at once"


@pytest.fixture
def woken(rt, database_url):
    if rt.db.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's (SQLite: the worker polls)")
    worker = Worker(rt, name="woken")
    running = worker.woken(worker.listen_url() or "").start()
    assert running.listener.listening.wait(20), "the worker listens"
    yield running
    running.shutdown()


def _completed(rt, ids: list[str]) -> bool:
    with rt.uow() as uow:
        return set(uow.session.exec(select(ProcessInstance.status).where(ProcessInstance.id.in_(ids))).all()) \
            == {"completed"}


def test_a_timer_due_now_fires_when_its_start_commits(rt, woken, clock):
    """The test's clock stands still, so the worker's horizon never comes: only the wake-up can fire it."""
    import_definition(rt, SYSTEM_ACTOR, DUE_NOW)
    for _ in range(2):  # (the first round may meet the worker's first look; the second only a wake-up can fire)
        ids = [start_instance(rt, SYSTEM_ACTOR, "due-now", {})[0].id for _ in range(3)]
        deadline = time.monotonic() + 20  # (a real worker at work; its clock stands still)
        while not _completed(rt, ids) and time.monotonic() < deadline:
            threading.Event().wait(0.05)
        assert _completed(rt, ids), "fired without any tick"


def test_a_rolled_back_unit_wakes_nobody(rt, database_url):
    if rt.db.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    with psycopg.connect(database_url, autocommit=True) as listening:
        listening.execute(f"LISTEN {wakeups.CHANNEL}")
        with rt.uow() as uow:  # queued, never committed
            uow.outbox.add("never", "no-instance", None, "email", ["ann"], "s", "b", None, rt.now())
        with rt.uow() as uow:
            uow.wake_workers(wakeups.JOB, rt.now(), rt.now())
            uow.commit()  # nothing else to write: the notification alone
        heard = [wakeups.parse(n.payload) for n in listening.notifies(timeout=2.0, stop_after=2)]
    assert heard == [wakeups.WakeUp(wakeups.JOB, rt.now())], "one wake-up: the committed unit's, not the other"


def test_where_a_worker_listens(rt):
    """The database itself; not through a transaction pooler (a LISTEN lives in one server connection) unless a
    direct URL is given; never on SQLite (it polls)."""
    from dataclasses import replace

    def listening(**settings) -> str | None:
        worker = Worker(rt, name="where")
        worker.rt = replace(rt, settings=replace(rt.settings, **settings))
        return worker.listen_url()

    if rt.db.dialect.name != "postgresql":
        assert listening() is None
        return
    assert listening() == rt.settings.database_url
    assert listening(database_pooler="transaction") is None
    assert listening(database_pooler="transaction", database_listen_url="postgresql://direct/bpm") == \
        "postgresql://direct/bpm"
