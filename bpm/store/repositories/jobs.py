"""Durable jobs (timers, retries, escalations, continuations) as the runtime asks for them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, null, or_, select, text, update
from sqlmodel import select as select_models

from bpm.store import wakeups
from bpm.store.direct import DirectStatement
from bpm.store.models import JOB_TABLE, Job
from bpm.store.vocabulary import JobKind, JobStatus

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

_PENDING_TIMER_AT = DirectStatement(select(JOB_TABLE.c.id).where(JOB_TABLE.c.instance_id == bindparam("instance_id"),
                                                                 JOB_TABLE.c.node_id == bindparam("node_id"),
                                                                 JOB_TABLE.c.kind == JobKind.TIMER,
                                                                 JOB_TABLE.c.status == JobStatus.PENDING))


_JOB = DirectStatement(select(JOB_TABLE).where(JOB_TABLE.c.id == bindparam("id")))
_FINISH = DirectStatement(update(JOB_TABLE).where(JOB_TABLE.c.id == bindparam("id")).values(
    status=bindparam("status"), locked_by=null(), locked_until=null(), fired_at=bindparam("now")))
_JOB_KEYS = tuple(JOB_TABLE.columns.keys())


class JobRepository:
    """The ``job`` table of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def has_pending_timer(self, instance_id: str, node_id: str | None) -> bool:
        """True if the node already waits on a pending timer (a retried timer node must not set a second)."""
        return _PENDING_TIMER_AT.first(self._uow, {"instance_id": instance_id, "node_id": node_id}) is not None

    def waiting_timers(self, instance_id: str) -> list[Job]:
        """The instance's timers still to fire (pending or being fired), soonest first: what it waits until."""
        query = select_models(Job).where(Job.instance_id == instance_id, Job.kind == JobKind.TIMER,
                                  Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING))).order_by(Job.due_at)
        return list(self._uow.session.exec(query).all())

    def add(self, kind: JobKind, instance_id: str, node_id: str | None, due_at: dt.datetime, payload: dict[str, Any],
            created_at: dt.datetime, task_id: str | None = None) -> None:
        """Queue a pending job (workers hear of it at commit if it is due soon)."""
        self._uow.insert_values(Job, kind=str(kind), instance_id=instance_id, node_id=node_id, task_id=task_id,
                                due_at=due_at, payload=payload, created_at=created_at, locked_by=None,
                                locked_until=None)
        self._uow.wake_workers(wakeups.JOB, due_at, created_at)

    def cancel_pending(self, instance_id: str, kinds: tuple[JobKind, ...] | None = None,
                       task_id: str | None = None) -> None:
        """Mark the pending jobs of an instance (of some kinds, or of one task) cancelled."""
        query = update(JOB_TABLE).where(JOB_TABLE.c.instance_id == instance_id,
                                        JOB_TABLE.c.status == JobStatus.PENDING)
        if kinds is not None:
            query = query.where(JOB_TABLE.c.kind.in_(kinds))
        if task_id is not None:
            query = query.where(JOB_TABLE.c.task_id == task_id)
        self._uow.execute(query.values(status=JobStatus.CANCELLED))

    def cancel_pending_at(self, instance_id: str, node_id: str) -> None:
        """Cancel the instance's pending jobs at one node (its work is made again)."""
        self._uow.execute(update(JOB_TABLE).where(JOB_TABLE.c.instance_id == instance_id,
                                                  JOB_TABLE.c.status == JobStatus.PENDING,
                                                  JOB_TABLE.c.node_id == node_id).values(status=JobStatus.CANCELLED))

    def rename_node(self, instance_id: str, old: str, new: str) -> None:
        """The instance's pending jobs at node ``old`` follow it to its new id (a move to another version)."""
        self._uow.execute(update(JOB_TABLE).where(JOB_TABLE.c.instance_id == instance_id,
                                                  JOB_TABLE.c.status == JobStatus.PENDING, JOB_TABLE.c.node_id == old)
                          .values(node_id=new))

    def cancel_pending_timers_except(self, instance_id: str, nodes: tuple[str, ...]) -> None:
        """Cancel the instance's pending timers at nodes other than ``nodes`` (branches that ended)."""
        query = update(JOB_TABLE).where(JOB_TABLE.c.instance_id == instance_id, JOB_TABLE.c.status == JobStatus.PENDING,
                                        JOB_TABLE.c.kind == JobKind.TIMER)
        if nodes:
            query = query.where(JOB_TABLE.c.node_id.not_in(nodes))
        self._uow.execute(query.values(status=JobStatus.CANCELLED))

    # --- what the worker does with them (bpm.runtime.jobs) ---

    def claim_due(self, now: dt.datetime, worker: str, until: dt.datetime, limit: int) -> list[tuple[int, str, str]]:
        """Mark up to ``limit`` due jobs ``running`` for ``worker`` until ``until``: (id, kind, instance id) each.

        Due: pending and due, or running under a lease that ran out. On PostgreSQL rows another transaction
        is claiming are skipped (``FOR UPDATE SKIP LOCKED``), so workers never wait on or double each other.
        """
        due = or_(and_(JOB_TABLE.c.status == JobStatus.PENDING, JOB_TABLE.c.due_at <= now),
                  and_(JOB_TABLE.c.status == JobStatus.RUNNING, JOB_TABLE.c.locked_until < now))
        picked = (select(JOB_TABLE.c.id).where(due).order_by(JOB_TABLE.c.due_at, JOB_TABLE.c.id).limit(limit)
                  .with_for_update(skip_locked=True))
        claimed = self._uow.execute(
            update(JOB_TABLE).where(JOB_TABLE.c.id.in_(picked.scalar_subquery()))
            .values(status=JobStatus.RUNNING, locked_by=worker, locked_until=until)
            .returning(JOB_TABLE.c.id, JOB_TABLE.c.kind, JOB_TABLE.c.instance_id)).all()
        return [tuple(row) for row in claimed]  # type: ignore[misc]

    def next_due(self) -> dt.datetime | None:
        """When the next job falls due: the soonest pending one, or a lease running out (its worker died)."""
        table, moment = JOB_TABLE, JOB_TABLE.c.due_at.type
        pending = select(func.min(table.c.due_at, type_=moment)).where(table.c.status == JobStatus.PENDING)
        leased = select(func.min(table.c.locked_until, type_=moment)).where(table.c.status == JobStatus.RUNNING)
        row = self._uow.execute(select(pending.scalar_subquery(), leased.scalar_subquery())).one()
        return min((when for when in row if when is not None), default=None)

    def renew(self, worker: str, job_ids: list[int], until: dt.datetime) -> None:
        """Extend the lease of the jobs ``worker`` still holds."""
        self._uow.execute(update(JOB_TABLE).where(JOB_TABLE.c.id.in_(job_ids), JOB_TABLE.c.locked_by == worker,
                                                  JOB_TABLE.c.status == JobStatus.RUNNING)
                          .values(locked_until=until))

    def serialize_instance(self, instance_id: str) -> None:
        """Wait for any other transaction firing a job of this instance (PostgreSQL; SQLite has one writer)."""
        if self._uow.dialect.name == "postgresql":
            self._uow.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 0))"), {"id": instance_id})

    def get(self, job_id: int) -> Job | None:
        """The job as it is now (read straight, not through the ORM: a worker reads one per job it fires)."""
        row = _JOB.first(self._uow, {"id": job_id})
        return None if row is None else Job.model_construct(**dict(zip(_JOB_KEYS, row, strict=True)))

    def finish(self, job_id: int, status: str, now: dt.datetime) -> None:
        """Record that a job was fired (or found moot): nobody holds it any more. Queued: it goes with the
        unit's other writes and its commit, in one round trip."""
        self._uow.write(_FINISH, {"id": job_id, "status": status, "now": now})

    def give_back(self, job_id: int, status: str, attempts: int, due_at: dt.datetime | None,
                  error: str | None) -> None:
        """Release a job: pending again at ``due_at``, or an incident; with its attempts and last error."""
        values: dict[str, Any] = {"status": status, "attempts": attempts, "locked_by": None, "locked_until": None}
        if due_at is not None:
            values["due_at"] = due_at
        if error is not None:
            values["last_error"] = error
        self._uow.execute(update(JOB_TABLE).where(JOB_TABLE.c.id == job_id).values(**values))

    def incidents(self, limit: int) -> list[Job]:
        """Jobs that failed too often, newest first."""
        query = (select_models(Job).where(Job.status == JobStatus.INCIDENT)
                 .order_by(Job.due_at.desc(), Job.id.desc()).limit(limit))  # type: ignore[attr-defined]
        return list(self._uow.session.exec(query).all())

    def reopen_incident(self, job_id: int, now: dt.datetime) -> None:
        """An incident due again now, with fresh attempts."""
        self._uow.execute(update(JOB_TABLE).where(JOB_TABLE.c.id == job_id, JOB_TABLE.c.status == JobStatus.INCIDENT)
                          .values(status=JobStatus.PENDING, attempts=0, due_at=now))
        self._uow.wake_workers(wakeups.JOB, now, now)
