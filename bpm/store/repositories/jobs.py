"""Durable jobs (timers, retries, escalations, continuations) as the runtime asks for them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from bpm.store.direct import DirectStatement
from bpm.store.models import JOB_TABLE, Job
from bpm.store.vocabulary import JobKind, JobStatus

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

_PENDING_TIMER_AT = DirectStatement(select(JOB_TABLE.c.id).where(JOB_TABLE.c.instance_id == bindparam("instance_id"),
                                                                 JOB_TABLE.c.node_id == bindparam("node_id"),
                                                                 JOB_TABLE.c.kind == JobKind.TIMER,
                                                                 JOB_TABLE.c.status == JobStatus.PENDING))


class JobRepository:
    """The ``job`` table of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def has_pending_timer(self, instance_id: str, node_id: str | None) -> bool:
        """True if the node already waits on a pending timer (a retried timer node must not set a second)."""
        return _PENDING_TIMER_AT.first(self._uow, {"instance_id": instance_id, "node_id": node_id}) is not None

    def add(self, kind: JobKind, instance_id: str, node_id: str | None, due_at: dt.datetime, payload: dict[str, Any],
            created_at: dt.datetime, task_id: str | None = None) -> None:
        """Queue a pending job."""
        self._uow.insert_values(Job, kind=str(kind), instance_id=instance_id, node_id=node_id, task_id=task_id,
                                due_at=due_at, payload=payload, created_at=created_at, locked_by=None,
                                locked_until=None)

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
