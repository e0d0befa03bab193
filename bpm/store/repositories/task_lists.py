"""The inbox's queries: a person's tasks, most urgent first, one page at a time.

Work assigned to someone comes from the task table's (status, assignee)
index; work offered to them or their groups from the open offers
(``offers.py``), which carry each task's urgency. Both are ordered, counted
and cut to the page as narrow (id, urgency) rows, and only the page's own
tasks are read in full: a page costs what the person's workload costs,
whatever the company's history or the other teams' backlogs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, func, or_, union, union_all
from sqlmodel import select

from bpm.store.models import Membership, ProcessInstance, Task, TaskCandidate, User
from bpm.store.paging import paginate, window
from bpm.store.vocabulary import TaskStatus

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


def _urgency(columns: Any) -> tuple[Any, ...]:
    """Highest priority first, then the earliest due (undated last), then the oldest; the id settles ties."""
    return (columns.priority.desc(), columns.due_at.is_(None), columns.due_at, columns.created_at, columns.id)


def _by_due(columns: Any) -> tuple[Any, ...]:
    """The earliest due first (undated last), then by priority."""
    return (columns.due_at.is_(None), columns.due_at, columns.priority.desc(), columns.created_at, columns.id)


# Every order uses only the narrow (id, priority, due_at, created_at) columns both the task table and the offers have.
ORDERS = {
    "urgency": _urgency,
    "due": _by_due,
    "newest": lambda columns: (columns.created_at.desc(), columns.id),
    "oldest": lambda columns: (columns.created_at, columns.id),
}


def _on_tasks(status: str, filters: dict[str, Any]) -> list[Any]:
    """The status and the optional filters, as conditions on the task table."""
    conditions = [Task.status == status, *_urgency_filters(Task, filters)]
    for name, column in (("instance_id", Task.instance_id), ("definition_key", Task.definition_key)):
        if filters.get(name) is not None:
            conditions.append(column == filters[name])
    if filters.get("text"):
        conditions.append(Task.id.in_(_with_text(filters["text"])))
    return conditions


def _urgency_filters(columns: Any, filters: dict[str, Any]) -> list[Any]:
    """Priority and due-date filters, on the task table or on the offers (which carry both)."""
    conditions = []
    if filters.get("min_priority") is not None:
        conditions.append(columns.priority >= filters["min_priority"])
    if filters.get("due_before") is not None:
        conditions.append(and_(columns.due_at.is_not(None), columns.due_at < filters["due_before"]))
    return conditions


def _with_text(text: str) -> Any:
    """Ids of the tasks whose title, or whose instance's business key, holds ``text`` (any case)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    keyed = select(ProcessInstance.id).where(ProcessInstance.business_key.ilike(pattern, escape="\\"))
    return select(Task.id).where(or_(Task.title.ilike(pattern, escape="\\"), Task.instance_id.in_(keyed)))


class Absent(NamedTuple):
    """Someone away whose tasks a substitute lists with their own: which of them (``StandIn`` of the runtime)."""

    person: str
    groups: frozenset[str]
    processes: frozenset[str] | None
    since: dt.datetime | None


def _covered(columns: Any, absent: Absent | None) -> list[Any]:
    """The conditions an absence puts on whose tasks a substitute lists: its processes, and made since when."""
    if absent is None:
        return []
    conditions = []
    if absent.processes is not None:
        conditions.append(columns.definition_key.in_(sorted(absent.processes)))
    if absent.since is not None:
        conditions.append(columns.created_at >= absent.since)
    return conditions


def _assigned(username: str, status: str, filters: dict[str, Any], absent: Absent | None = None) -> Any:
    """(id, urgency) of the tasks in ``status`` assigned to ``username``."""
    return select(Task.id, Task.priority, Task.due_at, Task.created_at).where(
        Task.assignee == username, *_on_tasks(status, filters), *_covered(Task, absent))


def offered_to(username: str, groups: Collection[str]) -> Any:
    """The condition on the offers: to ``username``, or to one of ``groups``."""
    to_whom = [and_(TaskCandidate.kind == "user", TaskCandidate.name == username)]
    if groups:
        to_whom.append(and_(TaskCandidate.kind == "group", TaskCandidate.name.in_(sorted(groups))))
    return or_(*to_whom)


def _offered(username: str, groups: Collection[str], filters: dict[str, Any], dialect: str,
             absent: Absent | None = None, reader: str | None = None) -> Any:
    """(id, urgency) of the claimable tasks offered to ``username`` or one of ``groups``, each once — but not
    those ``username`` (or the ``reader`` who stands in for them) may not decide: a requester is not offered
    her own request through her group."""
    not_barred = [~_barred(TaskCandidate.barred, name, dialect) for name in dict.fromkeys((username, reader))
                  if name is not None]
    query = select(TaskCandidate.task_id.label("id"), TaskCandidate.priority, TaskCandidate.due_at,
                   TaskCandidate.created_at).where(offered_to(username, groups), *not_barred,
                                                   *_urgency_filters(TaskCandidate, filters),
                                                   *_covered(TaskCandidate, absent))
    if filters.get("text"):
        query = query.where(TaskCandidate.task_id.in_(_with_text(filters["text"])))
    if filters.get("instance_id") is not None:
        of_instance = select(Task.id).where(Task.instance_id == filters["instance_id"])
        query = query.where(TaskCandidate.task_id.in_(of_instance))
    if filters.get("definition_key") is not None:
        query = query.where(TaskCandidate.definition_key == filters["definition_key"])
    return query.distinct()  # a task offered to me and to my group is one task


def _orphaned(dialect: str) -> Any:
    """An open task no one can act on: its assignee is no active user or is barred from it, or it has none and
    no active candidate (offered by name or through a group) who is not barred."""
    active = select(User.username).where(User.active)
    by_name = select(TaskCandidate.task_id).where(
        TaskCandidate.task_id == Task.id, TaskCandidate.kind == "user", TaskCandidate.name == User.username)
    by_group = select(TaskCandidate.task_id).join(Membership, Membership.group_name == TaskCandidate.name).where(
        TaskCandidate.task_id == Task.id, TaskCandidate.kind == "group", Membership.username == User.username)
    someone = select(User.username).where(User.active, or_(by_name.exists(), by_group.exists()),
                                          ~_barred(Task.barred, User.username, dialect)).exists()
    return or_(and_(Task.assignee.is_not(None),
                    or_(Task.assignee.not_in(active), _barred(Task.barred, Task.assignee, dialect))),
               and_(Task.assignee.is_(None), ~someone))


def _barred(barred: Any, username: Any, dialect: str) -> Any:
    """``username`` is in the ``barred`` list (JSONB's ``?`` on PostgreSQL, ``json_each`` on SQLite)."""
    if dialect == "postgresql":
        return and_(barred.is_not(None), barred.op("?")(username))
    listed = func.json_each(barred).table_valued("value")
    return and_(barred.is_not(None), select(listed.c.value).where(listed.c.value == username).exists())



class TaskListRepository:
    """``uow.task_lists``: pages of tasks for the inbox, the API's task list and the admin page."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def of_table(self, which: str, username: str, status: str, filters: dict[str, Any], order: str, page: int,
                 page_size: int) -> tuple[list[Task], int]:
        """Tasks straight from the task table: ``which`` is "mine" (assigned to ``username``), "all" or
        "orphaned" (open tasks no one can act on)."""
        condition = {"mine": [Task.assignee == username], "all": [],
                     "orphaned": [_orphaned(self._uow.session.get_bind().dialect.name)]}[which]
        query = select(Task).where(*condition, *_on_tasks(status, filters))
        return paginate(self._uow.session, query, ORDERS[order](Task), page, page_size)

    def of_person(self, username: str, groups: Collection[str], assigned: bool, offered: bool, status: str,
                  filters: dict[str, Any], order: str, page: int, page_size: int,
                  absent: Sequence[Absent] = ()) -> tuple[list[Task], int]:
        """The tasks in ``status`` assigned to ``username`` and/or offered to them or their ``groups``; and
        the open ones of the ``absent`` people they stand in for, as those would see them."""
        dialect = self._uow.session.get_bind().dialect.name
        parts = [_assigned(username, status, filters)] if assigned else []
        if offered:
            parts.append(_offered(username, groups, filters, dialect))
        if status == TaskStatus.OPEN:
            for away in absent:
                if assigned:
                    parts.append(_assigned(away.person, status, filters, away))
                if offered:
                    parts.append(_offered(away.person, away.groups, filters, dialect, away, username))
        if not parts:
            return [], 0
        by = ORDERS[order]
        # One person's parts never overlap (a claimable task is assigned to nobody); with someone else's they may
        # (a task offered to both people's group), so those are made distinct.
        keys = (parts[0] if len(parts) == 1 else union_all(*parts) if len(parts) == 2 and not absent
                else union(*parts)).subquery("inbox")
        total = self._uow.session.exec(select(func.count()).select_from(keys)).one()
        bounds = window(page, page_size)
        if bounds is None or total == 0:
            return [], total
        page_keys = select(keys).order_by(*by(keys.c)).offset(bounds[0]).limit(bounds[1]).subquery("page")
        tasks = select(Task).join(page_keys, page_keys.c.id == Task.id).order_by(*by(page_keys.c))
        return list(self._uow.session.exec(tasks).all()), total
