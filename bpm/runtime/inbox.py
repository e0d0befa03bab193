"""The inbox: the tasks a person sees, most urgent first, one page at a time.

Work assigned to me comes from the task table's (status, assignee) index;
work offered to me or my groups from the open offers (``offers.py``), which
carry each task's urgency. Both are ordered, counted and cut to the page as
narrow (id, urgency) rows, and only the page's own tasks are read in full:
a page costs what the person's workload costs, whatever the company's
history or the other teams' backlogs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, union_all
from sqlmodel import select

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.store.models import TASK_OPEN, ProcessInstance, Task, TaskCandidate, User
from bpm.store.paging import paginate, window
from bpm.store.uow import UnitOfWork

SCOPES = ("available", "mine", "candidate", "all", "orphaned")  # the API offers exactly these


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


def _assigned(actor: Actor, status: str, filters: dict[str, Any]) -> Any:
    """(id, urgency) of the tasks in ``status`` assigned to ``actor``."""
    return select(Task.id, Task.priority, Task.due_at, Task.created_at).where(
        Task.assignee == actor.username, *_on_tasks(status, filters))


def _offered(actor: Actor, filters: dict[str, Any]) -> Any:
    """(id, urgency) of the claimable tasks offered to ``actor`` or one of their groups, each once."""
    to_whom = [and_(TaskCandidate.kind == "user", TaskCandidate.name == actor.username)]
    if actor.groups:
        to_whom.append(and_(TaskCandidate.kind == "group", TaskCandidate.name.in_(sorted(actor.groups))))
    query = select(TaskCandidate.task_id.label("id"), TaskCandidate.priority, TaskCandidate.due_at,
                   TaskCandidate.created_at).where(or_(*to_whom), *_urgency_filters(TaskCandidate, filters))
    if filters.get("text"):
        query = query.where(TaskCandidate.task_id.in_(_with_text(filters["text"])))
    if filters.get("instance_id") is not None:
        of_instance = select(Task.id).where(Task.instance_id == filters["instance_id"])
        query = query.where(TaskCandidate.task_id.in_(of_instance))
    if filters.get("definition_key") is not None:
        query = query.where(TaskCandidate.definition_key == filters["definition_key"])
    return query.distinct()  # a task offered to me and to my group is one task


def _orphaned() -> Any:
    """An open task no one can act on: its assignee is no active user, or it has none and no open offer."""
    active = select(User.username).where(User.active)
    offered = select(TaskCandidate.task_id).where(TaskCandidate.task_id == Task.id).exists()
    return or_(and_(Task.assignee.is_not(None), Task.assignee.not_in(active)),
               and_(Task.assignee.is_(None), ~offered))


def list_tasks(uow: UnitOfWork, actor: Actor, filters: dict[str, Any], page: int,
               page_size: int) -> tuple[list[Task], int]:
    """A page of tasks and how many there are in all, most urgent first unless ``sort`` names another order.

    ``scope``: available (default: assigned to me, or offered to me or my
    groups and unclaimed), mine, candidate (offered and unclaimed), all
    (auditors and admins), orphaned (auditors and admins: open tasks no one can act on, assigned to
    nobody who exists or offered to nobody): auditors and admins. ``status`` defaults to open; only
    open tasks are offered.
    """
    scope = filters.get("scope") or "available"
    status = filters.get("status") or TASK_OPEN
    order = ORDERS.get(filters.get("sort") or "urgency")
    require(actor, Action.TASK_LIST)
    if order is None:
        raise InvalidRequest("unknown sort order", {"sort": [f"one of: {', '.join(ORDERS)}"]})
    if scope in ("all", "mine", "orphaned"):  # the task table serves each: read the tasks straight
        if scope != "mine":
            require(actor, Action.TASK_READ_ALL)
        which = {"mine": [Task.assignee == actor.username], "all": [], "orphaned": [_orphaned()]}[scope]
        return paginate(uow.session, select(Task).where(*which, *_on_tasks(status, filters)), order(Task),
                        page, page_size)
    if scope not in ("available", "candidate"):
        raise InvalidRequest("unknown scope", {"scope": [f"one of: {', '.join(SCOPES)}"]})
    parts = [_assigned(actor, status, filters)] if scope == "available" else []
    if status == TASK_OPEN:
        parts.append(_offered(actor, filters))
    if not parts:
        return [], 0
    # The parts never overlap: a claimable task is assigned to nobody.
    keys = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("inbox")
    total = uow.session.exec(select(func.count()).select_from(keys)).one()
    bounds = window(page, page_size)
    if bounds is None or total == 0:
        return [], total
    page_keys = select(keys).order_by(*order(keys.c)).offset(bounds[0]).limit(bounds[1]).subquery("page")
    tasks = select(Task).join(page_keys, page_keys.c.id == Task.id).order_by(*order(page_keys.c))
    return list(uow.session.exec(tasks).all()), total
