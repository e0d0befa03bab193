"""Real `bpm worker` processes against PostgreSQL: every due timer fires exactly once, even when one is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlmodel import select

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition
from bpm.runtime.instances import start_instance
from bpm.store.models import HistoryEntry, Job

OVERDUE = {"id": "overdue", "name": "Overdue", "nodes": [
    {"id": "s", "type": "start"}, {"id": "t", "type": "timer", "data": {"until": "2019-06-01T09:00:00Z"}},
    {"id": "e", "type": "end"}],
    "edges": [{"id": "a", "source": "s", "target": "t"}, {"id": "b", "source": "t", "target": "e"}]}
TIMERS = 1000


def _worker(database_url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bpm.cli", "worker", *args],
                            env={**os.environ, "BPM_DATABASE_URL": database_url, "BPM_LOG_LEVEL": "WARNING"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _fired(rt) -> Counter:
    with rt.uow() as uow:
        return Counter(uow.session.exec(select(HistoryEntry.instance_id).where(
            HistoryEntry.cause == "timer_fired")).all())


def _wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_two_workers_fire_a_thousand_overdue_timers_once_though_one_is_killed_mid_batch(rt, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (SQLite: one worker, documented)")
    import_definition(rt, SYSTEM_ACTOR, OVERDUE)
    ids = [start_instance(rt, SYSTEM_ACTOR, "overdue", {})[0].id for _ in range(TIMERS)]
    doomed = _worker(database_url, "--lease", "2", "--batch", "400", "--interval", "0.2")
    survivor = None
    try:
        _wait_until(lambda: sum(_fired(rt).values()) >= 50, 60, "the first worker fires some timers")
        survivor = _worker(database_url, "--lease", "2", "--batch", "100", "--interval", "0.2")
        doomed.send_signal(signal.SIGKILL)  # mid-batch: it holds claimed jobs it will never fire
        doomed.wait(timeout=10)
        with rt.uow() as uow:
            held = len(uow.session.exec(select(Job.id).where(Job.status == "running")).all())
        _wait_until(lambda: sum(_fired(rt).values()) == TIMERS, 90, "every timer fired")
        fired = _fired(rt)
        assert Counter(fired[i] for i in ids) == {1: TIMERS}, "zero duplicates, zero misses"
        with rt.uow() as uow:
            statuses = Counter(uow.session.exec(select(Job.status)).all())
        assert statuses == {"done": TIMERS}, statuses
        assert held > 0, "the killed worker did hold jobs the survivor had to take over"
    finally:
        for process in (doomed, survivor):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
    again = subprocess.run([sys.executable, "-m", "bpm.cli", "worker", "--once"], capture_output=True, text=True,
                           env={**os.environ, "BPM_DATABASE_URL": database_url}, timeout=60)
    assert again.returncode == 0 and "nothing was due" in again.stdout, "restarted: nothing fires twice"
