"""Task actions: complete (which resumes the instance), claim, unclaim, delegate, comment; reading one task."""

from __future__ import annotations

from typing import Any

from bpm.engine import Snapshot
from bpm.engine.snapshot import PAUSED
from bpm.errors import ConflictError, Forbidden, InvalidRequest, NotFound, shown
from bpm.runtime import offers
from bpm.runtime.actors import Actor, may_work_on
from bpm.runtime.advance import EngineRun, add_task_event, cancel_pending_jobs, run_engine, save_advance
from bpm.runtime.instances import check_revision
from bpm.runtime.runtime import Runtime
from bpm.store.models import (
    TASK_COMPLETED,
    TASK_OPEN,
    ProcessInstanceRecord,
    TaskComment,
    TaskRecord,
    User,
)
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause

MAX_COMMENT = 4000


def get_task(uow: UnitOfWork, task_id: str) -> TaskRecord:
    """One task, or NotFound."""
    task = uow.tasks.get(task_id)
    if task is None:
        raise NotFound(f"no task {shown(task_id)}")
    return task


def _require_worker(actor: Actor, task: TaskRecord) -> None:
    if not may_work_on(actor, task):
        raise Forbidden("this task is assigned to someone else, or offered to groups you are not in")


def _require_open(task: TaskRecord) -> None:
    if task.status != TASK_OPEN:
        raise ConflictError(f"the task is already {task.status}")


def _bump(uow: UnitOfWork, task: TaskRecord, values: dict[str, Any]) -> None:
    """Version-checked task update (a lost race is a ConflictError, never a lost update); its offers follow."""
    was_claimable = offers.claimable(task)
    uow.tasks.update_open(task, values)
    offers.follow(uow, task, was_claimable)


def _task_and_instance(uow: UnitOfWork, task_id: str) -> tuple[TaskRecord, ProcessInstanceRecord]:
    """A task and the instance it belongs to, in one round trip."""
    found = uow.tasks.with_instance(task_id)
    if found is None:
        raise NotFound(f"no task {shown(task_id)}")
    return found


def complete_task(rt: Runtime, actor: Actor, task_id: str, outcome: str | None, data: Any,
                  expected_revision: int | None = None) -> tuple[TaskRecord, ProcessInstanceRecord, EngineRun]:
    """Complete a task with ``outcome`` and form ``data``, and advance its instance, in one transaction."""
    with rt.uow() as uow:
        task, instance = _task_and_instance(uow, task_id)
        check_revision(task.revision, expected_revision, "the task")
        _require_open(task)
        _require_worker(actor, task)
        if outcome is None and len(task.outcomes) == 1:
            outcome = task.outcomes[0]
        if outcome not in task.outcomes:
            raise InvalidRequest("unknown outcome", {"outcome": [f"must be one of: {', '.join(task.outcomes)}"]})
        data = rt.forms.validate(task.form_id, data, outcome)
        before = Snapshot.from_dict(instance.snapshot, copy=False)  # fresh from the database
        if instance.status != PAUSED or before.current_node_id != task.node_id:
            raise ConflictError("the instance is no longer waiting for this task")
        now = rt.now()
        # Completing an unclaimed task claims it: the work stays listed as the completer's (offers.py).
        _bump(uow, task, {"status": TASK_COMPLETED, "assignee": task.assignee or actor.username,
                          "completed_by": actor.username, "completed_at": now, "outcome": outcome, "data": data})
        engine = rt.engines.for_instance(uow, instance)
        if engine.workflow.nodes_by_id[task.node_id].data.get("escalations"):
            cancel_pending_jobs(uow, instance.id, task_id=task.id)  # escalations of a done task never fire
        payload = {"outcome": outcome, "data": data, "completedBy": actor.username,
                   "completedAt": now.isoformat().replace("+00:00", "Z")}
        run = run_engine(rt, engine, before, payload)
        # The instance was paused at this task's node, so this was its only open task, closed just now.
        save_advance(rt, uow, instance, before, run, actor.username, Cause.TASK_COMPLETED, task.node_id,
                     tasks_may_exist=False)
        uow.commit()
        return task, instance, run


def claim_task(rt: Runtime, actor: Actor, task_id: str, expected_revision: int | None = None) -> TaskRecord:
    """Take an unassigned task you are a candidate for."""
    with rt.uow() as uow:
        task = get_task(uow, task_id)
        check_revision(task.revision, expected_revision, "the task")
        _require_open(task)
        if task.assignee is not None:
            raise ConflictError(f"the task is already claimed by {task.assignee}")
        _require_worker(actor, task)
        _bump(uow, task, {"assignee": actor.username})
        add_task_event(rt, uow, task, actor.username, Cause.TASK_CLAIMED, {"assignee": [None, actor.username]})
        uow.commit()
        return task


def unclaim_task(rt: Runtime, actor: Actor, task_id: str, expected_revision: int | None = None) -> TaskRecord:
    """Give a claimed task back to its candidates."""
    with rt.uow() as uow:
        task = get_task(uow, task_id)
        check_revision(task.revision, expected_revision, "the task")
        _require_open(task)
        if task.assignee != actor.username and not actor.is_admin:
            raise Forbidden("only the assignee or an admin may unclaim a task")
        assignee = task.assignee
        _bump(uow, task, {"assignee": None})
        add_task_event(rt, uow, task, actor.username, Cause.TASK_UNCLAIMED, {"assignee": [assignee, None]})
        uow.commit()
        return task


def delegate_task(rt: Runtime, actor: Actor, task_id: str, to: str,
                  expected_revision: int | None = None) -> TaskRecord:
    """Hand a task to another active user."""
    with rt.uow() as uow:
        task = get_task(uow, task_id)
        check_revision(task.revision, expected_revision, "the task")
        _require_open(task)
        _require_worker(actor, task)
        target = uow.session.get(User, to)
        if target is None or not target.active:
            raise InvalidRequest("unknown user", {"to": [f"no active user {shown(to)}"]})
        assignee = task.assignee
        _bump(uow, task, {"assignee": to})
        add_task_event(rt, uow, task, actor.username, Cause.TASK_DELEGATED, {"assignee": [assignee, to]})
        uow.commit()
        return task


def comment_on_task(rt: Runtime, actor: Actor, task_id: str, body: str) -> TaskComment:
    """Add a remark to a task (open or not)."""
    text = (body or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise InvalidRequest("invalid comment", {"body": [f"1 to {MAX_COMMENT} characters"]})
    with rt.uow() as uow:
        task = get_task(uow, task_id)
        comment = uow.tasks.add_comment(task_id, actor.username, text, rt.now())
        add_task_event(rt, uow, task, actor.username, Cause.TASK_COMMENTED, {"comment": [None, text]})
        uow.commit()
        return comment


def task_comments(uow: UnitOfWork, task_id: str) -> list[TaskComment]:
    """A task's comments, oldest first."""
    return uow.tasks.comments(task_id)


def open_tasks_of(uow: UnitOfWork, instance_id: str) -> list[TaskRecord]:
    """The open tasks of one instance, oldest first."""
    return uow.tasks.open_of_instance(instance_id)
