"""Two `bpm serve` and two `bpm worker` processes over one PostgreSQL, sharing nothing else (docs/performance.md):
starts and completions go through both servers, due timers through both workers, and afterwards every instance
is consistent, every timer fired once and every chain is intact."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack

import pytest
from sqlmodel import select

from bench.service import server
from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.audit import verify
from bpm.runtime.definitions import import_definition
from bpm.store.models import HistoryEntry, Job, ProcessInstance

from .test_server import _free_port

APPROVE_THEN_WAIT = {
    "id": "approve-then-wait", "name": "Approve, then wait",
    "nodes": [{"id": "ask", "type": "start"},
              {"id": "approve", "type": "human-task",
               "data": {"title": "Approve {{ ask.last.data.n }}", "assignee": "bob", "outcomes": ["approve"]}},
              {"id": "cool-off", "type": "timer", "data": {"until": "2019-06-01T09:00:00Z"}},  # due at once
              {"id": "done", "type": "end", "data": {"outcome": "approved"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "approve"},
              {"id": "e2", "source": "approve", "target": "cool-off", "sourceHandle": "approve"},
              {"id": "e3", "source": "cool-off", "target": "done"}],
}
PROCESSES = 60


def _post(port: int, path: str, body: dict, user: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=json.dumps(body), headers={"X-BPM-User": user,
                                                               "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def _until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)  # (real processes working; the test's own clock is not involved)


@pytest.fixture
def processes(database_url):
    """Start ``bpm worker`` processes (and, on ``processes.stack``, servers), all stopped afterwards."""
    started: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-m", "bpm.cli", *args],
                                   env={**os.environ, "BPM_DATABASE_URL": database_url, "BPM_LOG_LEVEL": "WARNING",
                                        **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(process)
        return process

    with ExitStack() as stack:
        start.stack = stack  # type: ignore[attr-defined]
        yield start
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def test_two_servers_and_two_workers_share_one_database(rt, database_url, processes):
    stack = processes.stack
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share a database on PostgreSQL (SQLite: one process, documented)")
    import_definition(rt, SYSTEM_ACTOR, APPROVE_THEN_WAIT)
    ports = [_free_port(), _free_port()]
    for port in ports:  # `bpm serve`, one granian worker each: two processes
        stack.enter_context(server(database_url, port, workers=1, threads=4))
    for _ in range(2):
        processes("worker", "--interval", "0.2")
    started: list[str] = []
    errors: list[str] = []

    def client(n: int) -> None:
        for i in range(PROCESSES // 6):
            here, there = ports[(n + i) % 2], ports[(n + i + 1) % 2]  # started on one server, decided on the other
            status, body = _post(here, "/api/instances", {"definition": "approve-then-wait", "payload": {"n": i}},
                                 "ann")
            if status != 201:
                errors.append(f"start: {status} {body}")
                continue
            started.append(body["id"])
            status, body = _post(there, f"/api/tasks/{body['openTasks'][0]['id']}/complete",
                                 {"outcome": "approve"}, "bob")
            if status != 200:
                errors.append(f"complete: {status} {body}")

    clients = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=120)
    assert not errors and len(started) == PROCESSES, errors[:3]

    def statuses() -> Counter:
        with rt.uow() as uow:
            return Counter(uow.session.exec(select(ProcessInstance.status).where(
                ProcessInstance.id.in_(started))).all())

    _until(lambda: statuses() == {"completed": PROCESSES}, 90, "every instance's timer fired")
    with rt.uow() as uow:
        fired = Counter(uow.session.exec(select(HistoryEntry.instance_id).where(
            HistoryEntry.cause == "timer_fired", HistoryEntry.instance_id.in_(started))).all())
        jobs = Counter(uow.session.exec(select(Job.status).where(Job.instance_id.in_(started))).all())
        instances = uow.session.exec(select(ProcessInstance).where(ProcessInstance.id.in_(started))).all()
        revisions = Counter(uow.session.exec(select(HistoryEntry.instance_id).where(
            HistoryEntry.instance_id.in_(started), HistoryEntry.task_id.is_(None))).all())
        found = verify(uow, rt.actor("audrey"))
    assert Counter(fired[i] for i in started) == {1: PROCESSES}, "every timer fired once, by one of the workers"
    assert jobs == {"done": PROCESSES}, jobs
    assert {(i.outcome, i.revision) for i in instances} == {("approved", 3)}  # started, decided, timer fired
    assert all(revisions[i.id] == i.revision for i in instances), "one history entry per snapshot revision"
    assert found.intact and found.chains >= PROCESSES, found.broken[:3]
