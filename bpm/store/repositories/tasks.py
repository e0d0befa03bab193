"""Task rows, their comments, and their open offers (``task_candidate``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import select as select_models

from bpm.store.direct import DirectStatement
from bpm.store.models import (
    CANDIDATE_TABLE,
    INSTANCE_TABLE,
    TASK_TABLE,
    ProcessInstanceRecord,
    Task,
    TaskCandidate,
    TaskComment,
    TaskRecord,
)
from bpm.store.statements import load_record, record_at, split_row, versioned_update
from bpm.store.vocabulary import TaskStatus

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

_OPEN_TASK_AT = DirectStatement(select(TASK_TABLE.c.id).where(TASK_TABLE.c.instance_id == bindparam("instance_id"),
                                                               TASK_TABLE.c.node_id == bindparam("node_id"),
                                                               TASK_TABLE.c.status == TaskStatus.OPEN))
_WITH_INSTANCE = DirectStatement(select(TASK_TABLE, INSTANCE_TABLE)
                                 .join(INSTANCE_TABLE, INSTANCE_TABLE.c.id == TASK_TABLE.c.instance_id)
                                 .where(TASK_TABLE.c.id == bindparam("id")))
_OPEN_OF_INSTANCE = DirectStatement(select(TASK_TABLE)
                                    .where(TASK_TABLE.c.instance_id == bindparam("instance_id"),
                                           TASK_TABLE.c.status == TaskStatus.OPEN)
                                    .order_by(TASK_TABLE.c.created_at, TASK_TABLE.c.id))
_WITHDRAW = DirectStatement(delete(CANDIDATE_TABLE).where(CANDIDATE_TABLE.c.task_id == bindparam("task_id")))


class TaskRepository:
    """The ``task`` and ``task_comment`` tables of one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get(self, task_id: str) -> TaskRecord | None:
        """The task, or None."""
        return load_record(self._uow, TaskRecord, task_id)

    def get_many(self, task_ids: list[str]) -> list[TaskRecord]:
        """The tasks among ``task_ids`` (unknown ids left out), in one query."""
        if not task_ids:
            return []
        rows = self._uow.execute(select(TASK_TABLE).where(TASK_TABLE.c.id.in_(task_ids))).all()
        return [record_at(TaskRecord, row) for row in rows]

    def with_instance(self, task_id: str) -> tuple[TaskRecord, ProcessInstanceRecord] | None:
        """A task and its instance, in one round trip (or None)."""
        row = _WITH_INSTANCE.first(self._uow, {"id": task_id})
        if row is None:
            return None
        task, instance = split_row(row, TaskRecord, ProcessInstanceRecord)
        return task, instance

    def open_at(self, instance_id: str, node_id: str) -> bool:
        """True if the instance has an open task at ``node_id``."""
        return _OPEN_TASK_AT.first(self._uow, {"instance_id": instance_id, "node_id": node_id}) is not None

    def open_of_instance(self, instance_id: str) -> list[TaskRecord]:
        """The open tasks of an instance, oldest first."""
        return [record_at(TaskRecord, row) for row in _OPEN_OF_INSTANCE.all(self._uow, {"instance_id": instance_id})]

    def of_vote(self, instance_id: str, vote_of: str) -> list[TaskRecord]:
        """Every task of one vote (open, completed or cancelled), oldest first."""
        rows = self._uow.execute(select(TASK_TABLE).where(TASK_TABLE.c.instance_id == instance_id,
                                                          TASK_TABLE.c.vote_of == vote_of)
                                 .order_by(TASK_TABLE.c.created_at, TASK_TABLE.c.id)).all()
        return [record_at(TaskRecord, row) for row in rows]

    def completed_of_instance(self, instance_id: str) -> list[TaskRecord]:
        """The completed tasks of an instance, in the order they were completed."""
        rows = self._uow.execute(select(TASK_TABLE).where(TASK_TABLE.c.instance_id == instance_id,
                                                          TASK_TABLE.c.status == TaskStatus.COMPLETED)
                                 .order_by(TASK_TABLE.c.completed_at, TASK_TABLE.c.id)).all()
        return [record_at(TaskRecord, row) for row in rows]

    def all_of_instance(self, instance_id: str) -> list[Task]:
        """Every task of an instance, as model objects, in the order they were created."""
        return list(self._uow.session.exec(select_models(Task).where(Task.instance_id == instance_id)
                                           .order_by(Task.created_at)).all())

    def add(self, task: TaskRecord) -> None:
        """Queue a new task."""
        self._uow.insert(task)

    def update_open(self, task: TaskRecord, values: dict[str, Any]) -> None:
        """Write ``values`` if the task is still open at the revision read (else ConflictError); bumps revision."""
        read = task.revision
        versioned_update(self._uow, TASK_TABLE, task.id, read, values, status=TaskStatus.OPEN,
                         conflict="the task was changed by someone else; reload and try again")
        self._uow.mark_written(task, {**values, "revision": read + 1})

    def cancel_open_of_instance(self, instance_id: str) -> None:
        """Cancel every open task of an instance (locks them before the instance, as every action does)."""
        self._uow.execute(update(TASK_TABLE).where(TASK_TABLE.c.instance_id == instance_id,
                                                   TASK_TABLE.c.status == TaskStatus.OPEN)
                          .values(status=TaskStatus.CANCELLED, revision=TASK_TABLE.c.revision + 1))

    def add_comment(self, task_id: str, author: str, body: str, at: dt.datetime) -> TaskComment:
        """Add a comment (an ORM object, so its id comes back)."""
        comment = TaskComment(task_id=task_id, author=author, body=body, created_at=at)
        self._uow.session.add(comment)
        return comment

    def comments_of_instance(self, instance_id: str) -> list[tuple[TaskComment, str]]:
        """Every comment on the instance's tasks with its task's title, oldest first."""
        query = (select_models(TaskComment, Task.title).join(Task, Task.id == TaskComment.task_id)
                 .where(Task.instance_id == instance_id).order_by(TaskComment.created_at, TaskComment.id))
        return [(comment, title) for comment, title in self._uow.session.exec(query).all()]

    def comments(self, task_id: str) -> list[TaskComment]:
        """A task's comments, oldest first."""
        return list(self._uow.session.exec(select_models(TaskComment).where(TaskComment.task_id == task_id)
                                           .order_by(TaskComment.created_at, TaskComment.id)).all())


class OfferRepository:
    """The ``task_candidate`` table of one unit of work: who may claim an open, unclaimed task now."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def add(self, task: TaskRecord, kind: str, name: str) -> None:
        """Queue one offer of ``task`` to a user or group, carrying the task's urgency."""
        self._uow.insert_values(TaskCandidate, task_id=task.id, kind=kind, name=name,
                                definition_key=task.definition_key, priority=task.priority,
                                due_at=task.due_at, created_at=task.created_at, barred=task.barred)

    def withdraw(self, task_id: str) -> None:
        """Queue the removal of a task's offers."""
        self._uow.write(_WITHDRAW, {"task_id": task_id})

    def withdraw_all_of_instance(self, instance_id: str) -> None:
        """Remove the offers of every task of an instance."""
        tasks_of_instance = select(TASK_TABLE.c.id).where(TASK_TABLE.c.instance_id == instance_id)
        self._uow.execute(delete(CANDIDATE_TABLE).where(CANDIDATE_TABLE.c.task_id.in_(tasks_of_instance)))
