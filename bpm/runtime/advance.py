"""Advance an instance: run the engine, then write snapshot, history and effects in one transaction.

The instance row is updated with ``WHERE revision = :read``; if another
transaction got there first nothing matches and the whole unit rolls back
with ConflictError. Tasks, jobs and outbox rows are inserted in the same
transaction, so a notification or timer exists exactly when its step does.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import orjson

from bpm.engine import Snapshot, WorkflowEngine
from bpm.engine.data import request_data, request_data_of
from bpm.engine.snapshot import ACTIVE, COMPLETED, ERROR, FAILED
from bpm.errors import NotFound
from bpm.nodes import CallRequest, MessageRequest, NodeType, StepGlobals, TaskRequest, TimerRequest
from bpm.runtime import calls, notices
from bpm.runtime.access import approval_rules, barred_people
from bpm.runtime.actors import SYSTEM
from bpm.runtime.history import Deed, snapshot_delta
from bpm.runtime.offers import claimable, follow, offer
from bpm.runtime.runtime import Runtime
from bpm.runtime.transitions import ENDED, TASK
from bpm.store.chain import HistoryEvent, stamp
from bpm.store.models import (
    ProcessInstanceRecord,
    TaskRecord,
)
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause, InstanceStatus, JobKind, TaskStatus

CANCELLED = InstanceStatus.CANCELLED

@dataclass
class EngineRun:
    """The result of running the engine within one transaction's step budget."""

    snapshot: Snapshot
    globals: StepGlobals
    engine: WorkflowEngine
    last_node_id: str | None = None
    steps: int = 0
    created_tasks: list[TaskRecord] = field(default_factory=list)


def run_engine(rt: Runtime, engine: WorkflowEngine, snapshot: Snapshot, payload: Any,
               resume: str | None = None) -> EngineRun:
    """Step until the run pauses, errors, ends or spends this transaction's step budget.

    ``resume``: the node whose task or timer the payload is for (it matters
    when several branches wait).

    Limits guard the host from a runaway definition (the engine bounds each
    node's output): the whole snapshot's size, the CPU time of this
    transaction and the steps over the instance's life. A step that breaks one
    is undone and the instance fails at that node, saying which limit it broke;
    what is written is the snapshot before that step, marked failed. A run
    still active after ``steps_per_transaction`` steps or ``engine_slice_ms`` of
    CPU stops there: a web request answers, and the worker carries on.
    """
    run = EngineRun(snapshot, StepGlobals(), engine)
    settings = rt.settings
    limit = settings.steps_per_transaction
    # Every result is at most max_output_bytes (the engine sees to it), so while results x that bound stays
    # under the snapshot limit the size needs no measuring: the common case costs nothing.
    results = sum(len(log) for log in snapshot.context.values())
    size: int | None = None
    cpu_started = time.thread_time()
    while True:
        before, effects_before = run.snapshot, len(run.globals.effects.items)
        first = run.steps == 0
        node_id = resume if first and resume is not None and before.positions is not None else before.current_node_id
        run.globals.effects.node_id = run.last_node_id = node_id
        run.snapshot = engine.execute_step(before, payload if first else None, run.globals,
                                           resume=resume if first else None)
        run.steps += 1
        results += 1
        if size is None and results * settings.max_output_bytes > settings.max_snapshot_bytes:
            size = _snapshot_bytes(run.snapshot)  # measured once, then followed step by step
        elif size is not None:
            size += _added_bytes(before, run.snapshot, node_id)
        broken = None
        spent_ms = (time.thread_time() - cpu_started) * 1000
        if run.snapshot.version > settings.max_steps_per_instance:
            broken = (f"the instance has taken {settings.max_steps_per_instance:,} steps over its life at node "
                      f"'{node_id}', the limit (BPM_MAX_STEPS_PER_INSTANCE): a loop that no task or timer stops")
        elif size is not None and size > settings.max_snapshot_bytes:
            broken = (f"the snapshot would grow to {size:,} bytes at node '{node_id}', over the limit of "
                      f"{settings.max_snapshot_bytes:,} (BPM_MAX_SNAPSHOT_BYTES)")
        elif spent_ms > settings.transaction_cpu_ms:
            broken = (f"the run spent more than {settings.transaction_cpu_ms:,} ms of CPU in one transaction at "
                      f"node '{node_id}' (BPM_TRANSACTION_CPU_MS)")
        if broken is not None:
            del run.globals.effects.items[effects_before:]
            run.snapshot = before._replace(status=FAILED, metadata=MappingProxyType(
                {**before.metadata, "failedReason": broken}))
            return run
        if run.snapshot.status != ACTIVE or run.steps >= limit or spent_ms > settings.engine_slice_ms:
            return run  # the worker carries on with what is left (a continuation), a slice at a time


def _snapshot_bytes(snapshot: Snapshot) -> int:
    return len(orjson.dumps(snapshot.context.to_dict()))


def _added_bytes(before: Snapshot, after: Snapshot, node_id: str | None) -> int:
    """The size of the result a step appended (0 if it appended none)."""
    if node_id is None:
        return 0
    new, old = after.context.get(node_id), before.context.get(node_id)
    if new is None or len(new) == (len(old) if old is not None else 0):
        return 0
    return len(orjson.dumps(new.last().to_dict()))


def current_request(engine: WorkflowEngine, instance: ProcessInstanceRecord) -> dict[str, Any]:
    """The instance's request data as it stands (``data.<field>``), read from its stored snapshot."""
    return request_data_of(instance.snapshot or {}, engine.start_id)


def waits_at(instance: ProcessInstanceRecord, node_id: str | None, status: str) -> bool:
    """Whether the instance has a branch at ``node_id`` that is ``status`` (paused for a task or timer, or in error)."""
    if instance.status in ENDED:
        return False
    positions = instance.snapshot.get("positions") if isinstance(instance.snapshot, dict) else None
    if positions is None:
        return instance.status == status and instance.current_node_id == node_id
    return any(p.get("nodeId") == node_id and p.get("status") == status for p in positions)


def instance_fields(rt: Runtime, run: EngineRun) -> dict[str, Any]:
    """Instance columns that follow from the snapshot."""
    snap = run.snapshot
    fields: dict[str, Any] = {"status": snap.status, "current_node_id": snap.current_node_id,
                              "snapshot": snap.to_dict(), "updated_at": rt.now(), "error": None,
                              "outcome": None, "ended_at": None}
    if snap.status == COMPLETED:
        fields["ended_at"] = fields["updated_at"]
        fields["outcome"] = end_outcome(run)
    elif snap.status in (FAILED, ERROR):
        if snap.status == FAILED:
            fields["ended_at"] = fields["updated_at"]
        log = snap.context.get(snap.current_node_id or "")
        last = log.last() if log else None
        fields["error"] = (last.error if last is not None and last.error else
                           snap.metadata.get("failedReason"))
    return fields


def end_outcome(run: EngineRun) -> str | None:
    """The outcome of the end node a completed run stopped at (None if it ran out of edges elsewhere)."""
    node = run.engine.workflow.nodes_by_id.get(run.last_node_id or "")
    if node is None or node.type != NodeType.END:
        return None
    output = run.snapshot.context[node.id].last().output
    return output.get("outcome") if isinstance(output, dict) else None


def insert_instance(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, run: EngineRun, actor: str) -> None:
    """Write a new instance with its first history entry and effects."""
    for key, value in instance_fields(rt, run).items():
        setattr(instance, key, value)
    instance.revision = 1
    uow.instances.add(instance)
    _record(rt, uow, instance, None, run, Deed(actor, Cause.STARTED), tasks_may_exist=False)


def save_advance(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, before: Snapshot, run: EngineRun,
                 deed: Deed, tasks_may_exist: bool = True, moved_to: dict[str, Any] | None = None) -> None:
    """Write the instance's new state if nobody else changed it since it was read; else ConflictError.

    ``tasks_may_exist``: whether a task the run asks for may be open already
    (a retry re-runs a node); False spares a query per task, as when the run
    resumed the instance's only open task by completing it. The ``deed`` is who
    did it, why and where, for the history entry (a repair's changes: its old and
    new node and version, and its reason); ``moved_to`` are instance columns a
    repair changes (its definition version).
    """
    values = {**instance_fields(rt, run), **(moved_to or {})}
    write_instance(uow, instance, values)
    written = data_changes(run.engine, before, run.snapshot)
    if written:
        deed = deed.with_changes(written)
    parallel = before.positions is not None or run.snapshot.positions is not None
    _record(rt, uow, instance, before, run, deed, tasks_may_exist or parallel)
    if parallel:
        end_dropped_branches(rt, uow, instance, run.snapshot, deed.actor)


def data_changes(engine: WorkflowEngine, before: Snapshot, after: Snapshot) -> dict[str, list[Any]]:
    """The request's fields a run wrote, as ``{"data.<field>": [old, new]}`` for its history entry."""
    if after.data is before.data or not after.data:
        return {}
    old = request_data(before.context, engine.start_id, before.data)
    return {f"data.{name}": [old.get(name), value] for name, value in after.data.items()
            if name not in old or old[name] != value}


def end_dropped_branches(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, snap: Snapshot,
                         actor: str) -> None:
    """Tasks and timers of branches the run no longer holds (a join cancelled them) are cancelled, on record."""
    held = () if snap.finished else snap.paused_at
    for task in uow.tasks.open_of_instance(instance.id):
        if task.node_id not in held:
            cancel_task(rt, uow, task, actor, Cause.BRANCH_CANCELLED)
    uow.jobs.cancel_pending_timers_except(instance.id, held)


def cancel_task(rt: Runtime, uow: UnitOfWork, task: TaskRecord, actor: str, cause: str) -> None:
    """Close an open task unfinished: its offers and escalations go, and its history says why."""
    TASK.require("cancel", task.status)
    was_claimable = claimable(task)
    uow.tasks.update_open(task, {"status": TaskStatus.CANCELLED})
    follow(uow, task, was_claimable)
    cancel_pending_jobs(uow, task.instance_id, task_id=task.id)
    add_task_event(rt, uow, task, Deed(actor, cause, changes={"status": [TaskStatus.OPEN, TaskStatus.CANCELLED]}))


def write_instance(uow: UnitOfWork, instance: ProcessInstanceRecord, values: dict[str, Any]) -> None:
    """Version-checked update of the instance; bumps ``revision``."""
    uow.instances.update(instance, values)


def add_history(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, delta: dict[str, Any], deed: Deed,
                snapshot_version: int, new_chain: bool = False) -> None:
    """Append the history entry of the instance's current revision (``new_chain``: its first)."""
    uow.history.append(HistoryEvent(instance.id, instance.revision, rt.now(), deed.actor, deed.cause, deed.node_id,
                                    instance.status, snapshot_version, delta, changes=deed.changes,
                                    on_behalf_of=deed.on_behalf_of, instance_started_at=instance.started_at),
                       new_chain=new_chain)


def add_task_event(rt: Runtime, uow: UnitOfWork, task: TaskRecord, deed: Deed) -> None:
    """Append a history entry for a change of who may act on a task, or a comment, at the task's node."""
    state = uow.instances.state(task.instance_id)
    if state is None:
        raise NotFound(f"instance {task.instance_id} not found")
    uow.history.append(HistoryEvent(task.instance_id, state.revision, rt.now(), deed.actor, deed.cause, task.node_id,
                                    state.status, task_id=task.id, changes=deed.changes,
                                    on_behalf_of=deed.on_behalf_of, instance_started_at=state.started_at))


def _record(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, before: Snapshot | None, run: EngineRun,
            deed: Deed, tasks_may_exist: bool) -> None:
    add_history(rt, uow, instance, snapshot_delta(before, run.snapshot), deed, run.snapshot.version,
                new_chain=before is None)
    run.created_tasks = apply_effects(rt, uow, instance, run, tasks_may_exist, deed.actor)
    _schedule_follow_up(rt, uow, instance, run.snapshot)
    status = run.snapshot.status
    events = ["started"] if before is None else []
    if status in (COMPLETED, FAILED) and (before is None or before.status != status):
        events.append(status)  # started and ended in one go: both are news
        if instance.parent_id is not None:
            child_ended(rt, uow, instance)
    for event in events:
        notices.instance_event(rt, uow, instance, event, run.engine.workflow.extra,
                               str(run.engine.workflow.name or instance.definition_key))


def child_ended(rt: Runtime, uow: UnitOfWork, child: ProcessInstanceRecord) -> None:
    """A sub-process ended (completed, failed, cancelled): its parent's call step hears so through a job."""
    uow.jobs.add(JobKind.CALL_RETURN, child.parent_id or "", child.parent_node_id, rt.now(),
                 {"childId": child.id}, rt.now())


def apply_effects(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, run: EngineRun,
                  tasks_may_exist: bool = True, actor: str = SYSTEM) -> list[TaskRecord]:
    """Turn the step's requests into task, job and outbox rows (``actor``: whose step asked for them)."""
    created: list[TaskRecord] = []
    votes: dict[str, str] = {}  # node -> the id its voters' tasks share
    skipped: dict[str, bool] = {}  # node -> its tasks are open already (a retry re-ran it): asked once per node
    process_calendar = run.engine.workflow.extra.get("calendar")
    context = None  # the run's context as the approval rules read it, made once if a task needs it
    for effect in run.globals.effects.items:
        if isinstance(effect, TaskRequest):
            if tasks_may_exist:
                if effect.node_id not in skipped:
                    skipped[effect.node_id] = uow.tasks.open_at(instance.id, effect.node_id)
                if skipped[effect.node_id]:
                    continue
            vote_of = votes.setdefault(effect.node_id, _group_of(instance, run.snapshot, effect)) \
                if effect.vote else None
            context = context if context is not None else run.snapshot.context.to_dict()
            rules = approval_rules(rt, run.engine, instance, effect.node_id, context)
            form_version = rt.engines.forms_of(run.engine).version_of(effect.form)
            created.append(_open_task(rt, uow, instance, replace(effect, form_version=form_version), vote_of,
                                      effect.calendar or process_calendar, actor, barred_people(rules)))
        elif isinstance(effect, TimerRequest):
            calendar = effect.calendar or process_calendar
            due = rt.calendars.due(calendar, rt.now(), effect.duration) if calendar and effect.duration \
                else effect.due_at
            _add_job(rt, uow, instance, JobKind.TIMER, effect.node_id, due, {})
        elif isinstance(effect, CallRequest):
            child, engine, start, payload = calls.prepare_child(rt, uow, instance, effect)
            insert_instance(rt, uow, child, run_engine(rt, engine, start, payload), actor)
        elif isinstance(effect, MessageRequest):
            uow.outbox.add(effect.message_id, instance.id, effect.node_id, effect.channel, list(effect.recipients),
                           effect.subject, effect.body, effect.template, rt.now())
    return created


def _group_of(instance: ProcessInstanceRecord, snap: Snapshot, request: TaskRequest) -> str:
    """The id a node's voters' or items' tasks share: the same for every item of one run of the node.

    Items of a sequential forEach open one at a time, in separate steps, so the id is derived from the
    instance, the node and how often it completed before, not drawn.
    """
    if request.item_index is None:
        return str(uuid.uuid4())
    runs = len(snap.context.get(request.node_id, ()))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bpm:{instance.id}/{request.node_id}/{runs}"))


def _open_task(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, request: TaskRequest,
               vote_of: str | None = None, calendar: str | None = None, actor: str = SYSTEM,
               barred: list[str] | None = None) -> TaskRecord:
    now = rt.now()
    if calendar:  # counted in working time: the node computed plain time, the calendar is the runtime's
        request = replace(request, due_at=rt.calendars.due(calendar, now, request.due_in) if request.due_in
                          else None, escalations=tuple(
                              {**e, "due_at": rt.calendars.due(calendar, now, e["after"]).isoformat()}
                              for e in request.escalations))
    task = TaskRecord(id=str(uuid.uuid4()), instance_id=instance.id, node_id=request.node_id,
                      definition_key=instance.definition_key, title=request.title, form_id=request.form,
                      form_version=request.form_version,
                      assignee=request.assignee, candidate_users=sorted(set(request.candidate_users)),
                      candidate_groups=sorted(set(request.candidate_groups)), outcomes=list(request.outcomes),
                      priority=request.priority,
                      due_at=request.due_at, status=TaskStatus.OPEN, created_at=rt.now(), data=None, vote_of=vote_of,
                      item=request.item, item_index=request.item_index, barred=barred)
    uow.tasks.add(task)
    offer(uow, task)
    _record_task_created(uow, instance, task, actor)
    notices.task_opened(rt, uow, task)
    for escalation in request.escalations:
        due = dt.datetime.fromisoformat(escalation["due_at"])
        payload = {k: v for k, v in escalation.items() if k != "due_at"}
        _add_job(rt, uow, instance, JobKind.ESCALATION, request.node_id, due, payload, task_id=task.id)
    if task.due_at is not None:  # when it falls due, whoever it waits for hears so (once: completing cancels it)
        _add_job(rt, uow, instance, JobKind.ESCALATION, request.node_id, task.due_at,
                 {"action": "remind", "after": "due"}, task_id=task.id)
    return task


def _record_task_created(uow: UnitOfWork, instance: ProcessInstanceRecord, task: TaskRecord, actor: str) -> None:
    """The task's creation in the history, by whose step: to whom it went and by when (an auditor's first
    question)."""
    given = {"assignee": task.assignee, "candidateUsers": task.candidate_users or None,
             "candidateGroups": task.candidate_groups or None,
             "due": stamp(task.due_at) if task.due_at is not None else None, "voteOf": task.vote_of,
             "item": task.item}
    uow.history.append(HistoryEvent(instance.id, instance.revision, task.created_at, actor, Cause.TASK_CREATED,
                                    task.node_id, instance.status, task_id=task.id,
                                    changes={k: [None, v] for k, v in given.items() if v is not None},
                                    instance_started_at=instance.started_at))


def _add_job(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, kind: JobKind, node_id: str | None,
             due_at: dt.datetime, payload: dict[str, Any], task_id: str | None = None) -> None:
    if kind == JobKind.TIMER and uow.jobs.has_pending_timer(instance.id, node_id):
        return
    uow.jobs.add(kind, instance.id, node_id, due_at, payload, rt.now(), task_id=task_id)


def _schedule_follow_up(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, snap: Snapshot) -> None:
    """An ``error`` snapshot waits for its retry; an ``active`` one continues in a later transaction."""
    if snap.status == ERROR and snap.retry_state is not None:
        due = snap.retry_state.next_retry_at or rt.clock.now_ms()
        _add_job(rt, uow, instance, JobKind.RETRY, snap.current_node_id,
                 dt.datetime.fromtimestamp(due / 1000, tz=dt.UTC), {"attempts": snap.retry_state.attempts})
    elif snap.status == ACTIVE:
        _add_job(rt, uow, instance, JobKind.CONTINUATION, snap.current_node_id, rt.now(), {})


def cancel_pending_jobs(uow: UnitOfWork, instance_id: str, kinds: tuple[JobKind, ...] | None = None,
                        task_id: str | None = None) -> None:
    """Mark pending jobs of an instance (or of one task) cancelled."""
    uow.jobs.cancel_pending(instance_id, kinds, task_id)
