"""Durable jobs, fired: timers, task escalations, engine retries and the continuation of long runs.

A worker (``bpm.scheduler``) claims due rows and fires each here; this module
holds every rule of *what* firing means, so a job fired by any worker, by a
test's tick or by an admin's "retry" does the same thing.

- **Claiming** (``claim_due``; the SQL is ``JobRepository``'s) marks a batch ``running`` with a lease
  (``locked_by``, ``locked_until``), in one statement: on PostgreSQL the rows
  are picked with ``FOR UPDATE SKIP LOCKED``, so workers never wait on each
  other nor take the same row; a job whose lease ran out (its worker was
  killed) is due again. SQLite has one writer at a time, so one worker.
- **Firing** (``fire``) runs in one transaction with the effect it causes:
  the instance row is locked first (one job per instance at a time), the job
  is read again (a worker whose lease was taken over finds it is no longer
  its own and does nothing), the effect is checked against the instance as it
  is now — a timer for an instance that moved on, an escalation of a task that
  is done, a retry of an instance someone repaired: each is *moot* and only
  marked done — and the job is marked done in the same commit. A job fires
  once or, if its transaction fails, not at all.
- **Failures**: a job whose firing raises is tried again with a growing
  delay; after ``MAX_ATTEMPTS`` it becomes an **incident** (status
  ``incident``, with its last error) that admins see and retry by hand. A
  lost race with a person (they completed the task a moment earlier) is not a
  failure: the job is simply tried again at once, and finds itself moot.
- **Misfires**: a job due while no worker ran is fired once when one runs
  again (a timer due in 2019 fires at the first tick), never once per missed
  interval.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from typing import Any, NamedTuple

from bpm.engine import Snapshot
from bpm.engine.snapshot import ACTIVE, COMPLETED, ERROR, PAUSED
from bpm.errors import ConflictError, NotFound, shown
from bpm.runtime import notices
from bpm.runtime.access import instance_facts
from bpm.runtime.actors import Actor
from bpm.runtime.advance import (
    add_task_event,
    cancel_task,
    current_request,
    run_engine,
    save_advance,
    waits_at,
)
from bpm.runtime.history import Deed
from bpm.runtime.offers import claimable, follow
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.runtime.transitions import JOB, TASK
from bpm.store.models import Job, ProcessInstanceRecord
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause, JobKind, JobStatus, TaskStatus

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)  # a claimed job is its worker's this long (renewed while it works)
MAX_ATTEMPTS = 5  # failures before a job becomes an incident
FIRST_BACKOFF = dt.timedelta(seconds=10)  # then 20 s, 40 s, 80 s...
MAX_BACKOFF = dt.timedelta(hours=1)
TIMER_ACTOR, RETRY_ACTOR, WORKER_ACTOR = "system:timer", "system:retry", "system:worker"  # never a user name
PENDING, RUNNING, DONE, INCIDENT = (JobStatus.PENDING.value, JobStatus.RUNNING.value, JobStatus.DONE.value,
                                    JobStatus.INCIDENT.value)


class Claimed(NamedTuple):
    """A job a worker holds."""

    id: int
    kind: str
    instance_id: str


def claim_due(rt: Runtime, worker: str, limit: int, lease: dt.timedelta = LEASE) -> list[Claimed]:
    """Take up to ``limit`` due jobs for ``worker``, oldest due first; none another worker holds."""
    now = rt.now()
    with rt.uow() as uow:
        claimed = uow.jobs.claim_due(now, worker, now + lease, limit)
        uow.commit()
    return sorted((Claimed(*row) for row in claimed), key=lambda job: job.id)


def next_due(rt: Runtime) -> dt.datetime | None:
    """When the next job falls due (a lease that runs out included); None if none is waiting."""
    with rt.uow() as uow:
        return uow.jobs.next_due()


def renew(rt: Runtime, worker: str, job_ids: list[int], lease: dt.timedelta = LEASE) -> None:
    """Extend the lease of the jobs ``worker`` still holds (a long batch keeps its jobs)."""
    if not job_ids:
        return
    with rt.uow() as uow:
        uow.jobs.renew(worker, job_ids, rt.now() + lease)
        uow.commit()



def fire(rt: Runtime, job: Claimed, worker: str) -> str:
    """Fire one claimed job; what happened, in a word: fired, moot, lost (no longer ours), later, or incident."""
    try:
        with rt.uow() as uow:
            uow.jobs.serialize_instance(job.instance_id)  # one job per instance at a time
            row = uow.jobs.get(job.id)  # (read after the lock: as it is now)
            if row is None or not JOB.allows("finish", row.status) or row.locked_by != worker:
                return "lost"
            said = FIRE[row.kind](rt, uow, row)
            uow.jobs.finish(row.id, DONE, rt.now())
            uow.commit()
            return said
    except ConflictError:
        # A person changed the instance or task a moment earlier: try again at once; it will find itself moot.
        _release(rt, job, worker, rt.now(), None, count=False)
        return "later"
    except Incident as exc:  # trying again cannot help: straight to the admin
        logger.error("job %s (%s of instance %s) is an incident: %s", job.id, job.kind, job.instance_id, exc)
        return _release(rt, job, worker, None, str(exc), count=True, at_once=True)
    except Exception as exc:  # any failure of one job must not stop the others
        logger.exception("job %s (%s of instance %s) failed", job.id, job.kind, job.instance_id)
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
        return _release(rt, job, worker, None, error, count=True)


class Incident(Exception):
    """A job that no retry can help (a called sub-process failed): it becomes an incident at once."""


def _release(rt: Runtime, job: Claimed, worker: str, due: dt.datetime | None, error: str | None,
             count: bool, at_once: bool = False) -> str:
    """Give a job back: due again (after a backoff if it failed), or an incident once it failed too often."""
    now = rt.now()
    with rt.uow() as uow:
        row = uow.objects.get(Job, job.id, fresh=True)
        if row is None or not JOB.allows("give back", row.status) or row.locked_by != worker:
            return "lost"
        attempts = row.attempts + 1 if count else row.attempts
        if count and (at_once or attempts >= MAX_ATTEMPTS):
            uow.jobs.give_back(job.id, INCIDENT, attempts, None, error)
            uow.commit()
            logger.error("job %s (%s of instance %s) is an incident after %s failures", job.id, job.kind,
                         job.instance_id, attempts)
            return "incident"
        backoff = min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
        uow.jobs.give_back(job.id, PENDING, attempts, due or now + backoff, error)
        uow.commit()
        return "later"


# --- what each kind of job does --------------------------------------------------------------------------------

def _advance(rt: Runtime, uow: UnitOfWork, instance: ProcessInstanceRecord, payload: Any, actor: str, cause: str,
             node_id: str | None, resume: str | None = None) -> str:
    engine = rt.engines.for_instance(uow, instance)
    before = Snapshot.from_dict(instance.snapshot, copy=False)  # fresh: read under the instance's lock
    run = run_engine(rt, engine, before, payload, resume=resume)
    save_advance(rt, uow, instance, before, run, Deed(actor, cause, node_id))
    return "fired"


def _at(uow: UnitOfWork, job: Job, status: str) -> ProcessInstanceRecord | None:
    """The job's instance if it still is ``status`` at the job's node (else the job is moot)."""
    instance = uow.instances.get(job.instance_id)
    if instance is None or not waits_at(instance, job.node_id, status):
        return None
    return instance


def _timer(rt: Runtime, uow: UnitOfWork, job: Job) -> str:
    instance = _at(uow, job, PAUSED)
    if instance is None:
        return "moot"
    fired = rt.now().isoformat().replace("+00:00", "Z")
    return _advance(rt, uow, instance, {"firedAt": fired}, TIMER_ACTOR, Cause.TIMER_FIRED, job.node_id,
                    resume=job.node_id)


def _retry(rt: Runtime, uow: UnitOfWork, job: Job) -> str:
    """The engine's own retry: the snapshot keeps its attempts, so the node fails for good when they run out."""
    instance = _at(uow, job, ERROR)
    if instance is None:
        return "moot"
    return _advance(rt, uow, instance, None, RETRY_ACTOR, Cause.RETRIED, job.node_id)


def _continuation(rt: Runtime, uow: UnitOfWork, job: Job) -> str:
    """A run that spent its step budget goes on where it stopped (and may leave another continuation)."""
    instance = uow.instances.get(job.instance_id)
    if instance is None or instance.status != ACTIVE:
        return "moot"
    return _advance(rt, uow, instance, None, WORKER_ACTOR, Cause.CONTINUED, instance.current_node_id)


def _escalation(rt: Runtime, uow: UnitOfWork, job: Job) -> str:
    task = uow.tasks.get(job.task_id or "")
    if task is None or not TASK.allows("escalate", task.status):
        return "moot"
    action = job.payload.get("action")
    if action == "remind":
        _remind(rt, uow, task, job)
        return "fired"
    if action == "reassign":
        return _reassign(rt, uow, task, str(job.payload.get("to") or ""))
    if action == "timeout":
        return _time_out(rt, uow, task, str(job.payload.get("handle") or "timeout"))
    raise ValueError(f"unknown escalation action {action!r}")


def _remind(rt: Runtime, uow: UnitOfWork, task: Any, job: Job) -> None:
    """A reminder to whoever the task waits for, through the outbox (delivered after this commits)."""
    waiting_for = notices.reminded(rt, uow, task, due=job.payload.get("after") == "due")
    add_task_event(rt, uow, task, Deed(TIMER_ACTOR, Cause.TASK_REMINDED, changes={
        "reminded": [None, waiting_for], "after": [None, job.payload.get("after")]}))


def _reassign(rt: Runtime, uow: UnitOfWork, task: Any, to: str) -> str:
    """Give the task to ``to`` (a user, or ``group:NAME`` to offer it to a group)."""
    if not to:
        raise ValueError("a reassign escalation needs 'to'")
    group = to.removeprefix("group:") if to.startswith("group:") else None
    values = ({"assignee": None, "candidate_users": [], "candidate_groups": [group], "delegated_by": None}
              if group else {"assignee": to, "delegated_by": None})
    was_claimable = claimable(task)
    before = task.assignee
    uow.tasks.update_open(task, values)
    follow(uow, task, was_claimable)
    notices.escalated(rt, uow, task, to)
    add_task_event(rt, uow, task, Deed(TIMER_ACTOR, Cause.TASK_ESCALATED, changes={
        "assignee": [before, task.assignee], **({"offeredTo": [None, [to]]} if group else {})}))
    return "fired"


def _time_out(rt: Runtime, uow: UnitOfWork, task: Any, handle: str) -> str:
    """Nobody decided in time: the task closes and the process takes the escalation's handle."""
    instance = uow.instances.get(task.instance_id)
    if instance is None or not waits_at(instance, task.node_id, PAUSED):
        return "moot"
    siblings = uow.tasks.of_vote(instance.id, task.vote_of) if task.vote_of else [task]
    for open_task in (t for t in siblings if t.status == TaskStatus.OPEN):
        cancel_task(rt, uow, open_task, TIMER_ACTOR, Cause.TASK_TIMED_OUT)
    now = rt.now().isoformat().replace("+00:00", "Z")
    payload = {"outcome": handle, "data": {}, "completedBy": TIMER_ACTOR, "completedAt": now}
    engine = rt.engines.for_instance(uow, instance)
    before = Snapshot.from_dict(instance.snapshot, copy=False)
    run = run_engine(rt, engine, before, payload, resume=task.node_id)
    save_advance(rt, uow, instance, before, run, Deed(TIMER_ACTOR, Cause.TASK_TIMED_OUT, task.node_id),
                 tasks_may_exist=False)
    return "fired"


def _call_return(rt: Runtime, uow: UnitOfWork, job: Job) -> str:
    """A sub-process ended: the parent's call step goes on with its outcome and data, or is an incident."""
    parent = _at(uow, job, PAUSED)
    child = uow.instances.get(str(job.payload.get("childId") or ""))
    if parent is None or child is None:
        return "moot"
    if child.status != COMPLETED:
        raise Incident(f"the sub-process {child.definition_key} ({child.id}) {child.status}"
                       + (f": {child.error}" if child.error else "") + "; retry or repair it, then try this again")
    engine = rt.engines.for_instance(uow, child)
    payload = {"childId": child.id, "outcome": child.outcome, "data": current_request(engine, child)}
    return _advance(rt, uow, parent, payload, WORKER_ACTOR, Cause.CALL_RETURNED, job.node_id, resume=job.node_id)


FIRE = {JobKind.TIMER.value: _timer, JobKind.CALL_RETURN.value: _call_return,
        JobKind.RETRY.value: _retry, JobKind.CONTINUATION.value: _continuation,
        JobKind.ESCALATION.value: _escalation}


# --- incidents ------------------------------------------------------------------------------------------------

def incidents(uow: UnitOfWork, actor: Actor, limit: int = 200) -> list[Job]:
    """Jobs that failed too often, newest first: for auditors and admins."""
    require(actor, Action.INSTANCE_READ_ALL)
    return uow.jobs.incidents(limit)


def retry_incident(rt: Runtime, actor: Actor, job_id: int) -> Job:
    """Admins: fire an incident's job again at the next tick, with fresh attempts."""
    with rt.uow() as uow:
        job = uow.objects.get(Job, job_id) if 0 < job_id < 2**31 else None  # ids the INTEGER column can hold
        if job is None or not JOB.allows("retry incident", job.status):
            raise NotFound(f"no incident {shown(str(job_id))}")
        instance = uow.instances.get(job.instance_id)
        if instance is None:
            raise NotFound(f"no incident {shown(str(job_id))}")
        require(actor, Action.INSTANCE_RETRY, instance_facts(uow, actor, instance))
        uow.jobs.reopen_incident(job_id, rt.now())
        uow.commit()
        uow.objects.reload(job)
        return job
