"""The inbox: which tasks a person may list, in which order (the queries: ``store/repositories/task_lists.py``)."""

from __future__ import annotations

from typing import Any

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.store.models import Task
from bpm.store.repositories.task_lists import ORDERS, Absent
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import TaskStatus

SCOPES = ("available", "mine", "candidate", "all", "orphaned")  # the API offers exactly these


def list_tasks(uow: UnitOfWork, actor: Actor, filters: dict[str, Any], page: int,
               page_size: int) -> tuple[list[Task], int]:
    """A page of tasks and how many there are in all, most urgent first unless ``sort`` names another order.

    ``scope``: available (default: assigned to me, or offered to me or my
    groups and unclaimed; and those of whoever the actor stands in for
    today), mine, candidate (offered and unclaimed), all
    (auditors and admins), orphaned (auditors and admins: open tasks no one can act on, assigned to
    nobody who exists or offered to nobody): auditors and admins. ``status`` defaults to open; only
    open tasks are offered.
    """
    scope = filters.get("scope") or "available"
    status = filters.get("status") or TaskStatus.OPEN
    order = filters.get("sort") or "urgency"
    require(actor, Action.TASK_LIST)
    if order not in ORDERS:
        raise InvalidRequest("unknown sort order", {"sort": [f"one of: {', '.join(ORDERS)}"]})
    standing_in = bool(actor.stands_in) and status == TaskStatus.OPEN
    if scope in ("all", "mine", "orphaned") and not (scope == "mine" and standing_in):  # read the task table
        if scope != "mine":
            require(actor, Action.TASK_READ_ALL)
        return uow.task_lists.of_table(scope, actor.username, status, filters, order, page, page_size)
    if scope not in ("available", "candidate", "mine"):
        raise InvalidRequest("unknown scope", {"scope": [f"one of: {', '.join(SCOPES)}"]})
    absent = [Absent(s.person, s.groups, s.processes, s.since) for s in actor.stands_in]
    return uow.task_lists.of_person(actor.username, actor.groups, assigned=scope in ("available", "mine"),
                                    offered=status == TaskStatus.OPEN and scope != "mine", status=status,
                                    filters=filters, order=order, page=page, page_size=page_size, absent=absent)


def count_tasks(uow: UnitOfWork, actor: Actor, filters: dict[str, Any]) -> int:
    """How many tasks ``list_tasks`` would list, without reading any (the header's number, the other tab's)."""
    return list_tasks(uow, actor, filters, 1, 0)[1]  # a page of none: only the count is asked of the database
