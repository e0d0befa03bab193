"""A failure in our own code after some writes rolls everything back: nothing is half-written."""

from __future__ import annotations

import pytest

from bpm.runtime import advance
from bpm.runtime.instances import start_instance
from bpm.runtime.tasks import complete_task

from ..conftest import EXPENSE, database_dump


class Boom(RuntimeError):
    pass


def _explode(*args, **kwargs):
    raise Boom("a bug after the task and instance rows were updated")


def test_a_crash_while_completing_a_task_leaves_no_trace(rt, monkeypatch):
    _, run = start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    task_id = run.created_tasks[0].id
    before = database_dump(rt)
    monkeypatch.setattr(advance, "_schedule_follow_up", _explode)
    with pytest.raises(Boom):
        complete_task(rt, rt.actor("bob"), task_id, "approve", {})
    assert database_dump(rt) == before
    monkeypatch.undo()
    task, instance, _ = complete_task(rt, rt.actor("bob"), task_id, "approve", {})
    assert task.status == "completed" and instance.revision == 2


def test_a_crash_while_starting_leaves_no_instance(rt, monkeypatch):
    before = database_dump(rt)
    monkeypatch.setattr(advance, "apply_effects", _explode)
    with pytest.raises(Boom):
        start_instance(rt, rt.actor("ann"), "expense-approval", EXPENSE)
    assert database_dump(rt) == before


def test_over_http_a_crash_is_a_500_in_the_error_shape_and_writes_nothing(api, rt, monkeypatch):
    before = database_dump(rt)
    monkeypatch.setattr(advance, "apply_effects", _explode)
    response = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    assert response.status_code == 500
    assert response.json["code"] == 500 and "Boom" not in response.json["message"]
    assert database_dump(rt) == before
