"""Retention's statements: which finished instances are due, an instance locked for a purge or a hold, and the
removal of everything of an instance that holds what people entered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, or_, text, update
from sqlmodel import select

from bpm.store.models import (
    Attachment,
    FormDraft,
    HistoryEntry,
    InstanceText,
    Job,
    LegalHold,
    Notification,
    OutboxMessage,
    ProcessInstance,
    Task,
    TaskComment,
)
from bpm.store.repositories.history import kept_where

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class RetentionRepository:
    """``uow.retention``: what retention and legal holds read and remove."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def ended_before(self, versions: Collection[tuple[str, int]], statuses: Collection[str], before: dt.datetime,
                     limit: int | None) -> list[tuple[str, str, int, dt.datetime]]:
        """(id, key, version, ended at) of the unpurged instances of ``versions`` in ``statuses`` that ended
        before ``before`` and are not under a legal hold, oldest end first."""
        which = or_(*(and_(ProcessInstance.definition_key == key, ProcessInstance.definition_version == version)
                      for key, version in versions))
        held = select(LegalHold.instance_id)
        rows = self._uow.session.exec(
            select(ProcessInstance.id, ProcessInstance.definition_key, ProcessInstance.definition_version,
                   ProcessInstance.ended_at)
            .where(ProcessInstance.status.in_(sorted(statuses)), ProcessInstance.purged_at.is_(None),  # type: ignore
                   ProcessInstance.ended_at < before,  # type: ignore[operator]
                   which,
                   ProcessInstance.id.not_in(held))  # type: ignore[attr-defined]
            .order_by(ProcessInstance.ended_at).limit(limit)).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def locked_instance(self, instance_id: str) -> ProcessInstance | None:
        """The instance, its row locked until the unit ends (a purge and a hold never cross)."""
        return self._uow.session.exec(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                                      .with_for_update()).first()

    def entry_hashes(self, instance_id: str, started_at: dt.datetime) -> list[str]:
        """The hashes of an instance's history entries, in chain order (what a tombstone keeps)."""
        return [h for (h,) in self._uow.execute(select(HistoryEntry.entry_hash).where(
            *kept_where(instance_id, started_at)).order_by(HistoryEntry.position))]  # type: ignore[arg-type]

    def remove_entered_data(self, instance_id: str, started_at: dt.datetime) -> None:
        """Everything of the instance that holds what people entered (the history entries last, allowed once)."""
        uow = self._uow
        tasks = select(Task.id).where(Task.instance_id == instance_id)
        uow.execute(delete(TaskComment).where(TaskComment.task_id.in_(tasks)))  # type: ignore[attr-defined]
        uow.execute(delete(Attachment).where(Attachment.instance_id == instance_id))  # content goes with it
        task_ids = [t for (t,) in uow.execute(tasks)]
        if task_ids:
            uow.execute(delete(FormDraft).where(FormDraft.key.in_([f"task:{t}" for t in task_ids])))  # type: ignore
        uow.execute(update(Task).where(Task.instance_id == instance_id)  # type: ignore[arg-type]
                    .values(data=None, title="(purged)"))
        uow.execute(delete(InstanceText).where(InstanceText.instance_id == instance_id))  # type: ignore[arg-type]
        uow.execute(delete(OutboxMessage).where(OutboxMessage.instance_id == instance_id))  # type: ignore[arg-type]
        uow.execute(delete(Notification).where(Notification.instance_id == instance_id))  # type: ignore[arg-type]
        uow.execute(update(Job).where(Job.instance_id == instance_id).values(payload={}))  # type: ignore[arg-type]
        self._allow_deleting(instance_id)
        uow.execute(delete(HistoryEntry).where(*kept_where(instance_id, started_at)))

    def _allow_deleting(self, instance_id: str) -> None:
        """PostgreSQL: let this transaction, and only for this instance, past the history's append-only trigger."""
        if self._uow.dialect.name == "postgresql":
            self._uow.execute(text("SELECT set_config('bpm.purging', :instance, true)"), {"instance": instance_id})

    def mark_purged(self, instance_id: str, snapshot: Mapping[str, Any], at: dt.datetime) -> None:
        """The instance keeps ``snapshot`` (its context gone) and says when its data was purged."""
        self._uow.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)  # type: ignore[arg-type]
                          .values(snapshot=dict(snapshot), error=None, purged_at=at))

    def holds(self) -> Iterator[LegalHold]:
        """Every legal hold, newest first."""
        yield from self._uow.session.exec(select(LegalHold).order_by(LegalHold.set_at.desc()))  # type: ignore
