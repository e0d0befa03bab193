"""An in-memory unit of work (cosmicpython's fake), for the runtime's policy-heavy actions: claim, unclaim,
delegate, reassign, comment. Its repositories keep rows in dicts; ``commit`` makes what a unit did the
store's, leaving without it forgets it. Fast tests of who may do what need no database; the database tests
of the same actions stay (tests/e2e)."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from bpm.errors import ConflictError
from bpm.store.chain import HistoryEvent
from bpm.store.models import Membership, ProcessDefinition, ProcessInstanceRecord, TaskComment, TaskRecord, User
from bpm.store.repositories.instances import InstanceState
from bpm.store.vocabulary import TaskStatus


@dataclass
class Rows:
    """What the fake store holds: the committed state every unit starts from."""

    definitions: dict[int, ProcessDefinition] = field(default_factory=dict)
    instances: dict[str, ProcessInstanceRecord] = field(default_factory=dict)
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    offers: set[tuple[str, str, str]] = field(default_factory=set)  # (task id, kind, name)
    participants: set[tuple[str, str]] = field(default_factory=set)
    history: list[HistoryEvent] = field(default_factory=list)
    comments: list[TaskComment] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    memberships: set[tuple[str, str]] = field(default_factory=set)  # (username, group)
    commits: int = 0


class FakeUnitOfWork:
    """``with uow:`` works on a copy of the rows; ``commit`` puts the copy back."""

    def __init__(self, store: Rows) -> None:
        self._store = store
        self.chain_heads: dict[str, tuple[int, str]] = {}

    def __enter__(self) -> FakeUnitOfWork:
        self.rows = copy.deepcopy(self._store)
        self.tasks, self.offers = _Tasks(self.rows), _Offers(self.rows)
        self.instances, self.participants = _Instances(self.rows), _Participants(self.rows)
        self.history, self.definitions = _History(self.rows), _Definitions(self.rows)
        self.objects, self.people = _Objects(self.rows), _People(self.rows)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.rows = None  # type: ignore[assignment]  # uncommitted: forgotten

    def flush(self) -> None:
        pass

    def commit(self) -> None:
        self.rows.commits += 1
        for name in vars(self._store):
            setattr(self._store, name, getattr(self.rows, name))


class _Repo:
    def __init__(self, rows: Rows) -> None:
        self.rows = rows


class _Tasks(_Repo):
    _ids = itertools.count(1)

    def get(self, task_id: str) -> TaskRecord | None:
        return self.rows.tasks.get(task_id)

    def with_instance(self, task_id: str) -> tuple[TaskRecord, ProcessInstanceRecord] | None:
        task = self.rows.tasks.get(task_id)
        return None if task is None else (task, self.rows.instances[task.instance_id])

    def open_of_instance(self, instance_id: str) -> list[TaskRecord]:
        return [t for t in self.rows.tasks.values() if t.instance_id == instance_id and t.status == TaskStatus.OPEN]

    def of_vote(self, instance_id: str, vote_of: str) -> list[TaskRecord]:
        return [t for t in self.rows.tasks.values() if t.instance_id == instance_id and t.vote_of == vote_of]

    def update_open(self, task: TaskRecord, values: dict[str, Any]) -> None:
        stored = self.rows.tasks[task.id]
        if stored.status != TaskStatus.OPEN or stored.revision != task.revision:
            raise ConflictError("the task was changed by someone else; reload and try again")
        for key, value in {**values, "revision": task.revision + 1}.items():
            setattr(stored, key, value)
            setattr(task, key, value)

    def add_comment(self, task_id: str, author: str, body: str, at: dt.datetime) -> TaskComment:
        comment = TaskComment(id=next(self._ids), task_id=task_id, author=author, body=body, created_at=at)
        self.rows.comments.append(comment)
        return comment


class _Offers(_Repo):
    def add(self, task: TaskRecord, kind: str, name: str) -> None:
        self.rows.offers.add((task.id, kind, name))

    def withdraw(self, task_id: str) -> None:
        self.rows.offers = {offer for offer in self.rows.offers if offer[0] != task_id}


class _Instances(_Repo):
    def get(self, instance_id: str) -> ProcessInstanceRecord | None:
        return self.rows.instances.get(instance_id)

    def state(self, instance_id: str) -> InstanceState | None:
        found = self.rows.instances.get(instance_id)
        return None if found is None else InstanceState(found.revision, found.status, found.started_at)


class _Participants(_Repo):
    def join(self, instance_id: str, username: str, at: dt.datetime) -> None:
        self.rows.participants.add((instance_id, username))

    def has_acted(self, instance_id: str, username: str) -> bool:
        return (instance_id, username) in self.rows.participants


class _History(_Repo):
    def append(self, event: HistoryEvent, new_chain: bool = False) -> None:
        self.rows.history.append(event)


class _Definitions(_Repo):
    def row_by_id(self, definition_id: int) -> ProcessDefinition | None:
        return self.rows.definitions.get(definition_id)


class _Objects(_Repo):
    def get(self, model: type, key: Any, for_update: bool = False, fresh: bool = False) -> Any:
        if model is User:
            return self.rows.users.get(key)
        if model is Membership:
            return Membership(username=key[0], group_name=key[1]) if tuple(key) in self.rows.memberships else None
        raise NotImplementedError(f"the fake keeps no {model.__name__} by key")


class _People(_Repo):
    def groups_of(self, username: str) -> frozenset[str]:
        return frozenset(group for user, group in self.rows.memberships if user == username)
