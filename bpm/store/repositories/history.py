"""History entries: snapshot revisions and task events of an instance."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from bpm.store.models import HistoryEntry

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


class HistoryRepository:
    """The ``history_entry`` table of one unit of work; append-only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def append(self, instance_id: str, revision: int, at: dt.datetime, actor: str, cause: str,
               node_id: str | None, status: str, snapshot_version: int | None, delta: dict[str, Any],
               task_id: str | None = None, changes: dict[str, Any] | None = None,
               on_behalf_of: str | None = None) -> None:
        """Queue one entry (a task event names its task and changes, with an empty delta)."""
        self._uow.insert_values(HistoryEntry, instance_id=instance_id, revision=revision, at=at, actor=actor,
                                cause=str(cause), node_id=node_id, status=str(status),
                                snapshot_version=snapshot_version, delta=delta, task_id=task_id,
                                on_behalf_of=on_behalf_of, changes=changes)

    def of_instance(self, instance_id: str) -> list[HistoryEntry]:
        """Every entry of an instance, oldest first."""
        return list(self._uow.session.exec(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id)
                                           .order_by(HistoryEntry.revision, HistoryEntry.id)).all())
