"""The inbox: which tasks a person may list, in which order (the queries: ``store/repositories/task_lists.py``)."""

from __future__ import annotations

from typing import Any

from bpm.errors import InvalidRequest
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.store.models import Task
from bpm.store.repositories.task_lists import ORDERS
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import TaskStatus

SCOPES = ("available", "mine", "candidate", "all", "orphaned")  # the API offers exactly these


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
    status = filters.get("status") or TaskStatus.OPEN
    order = filters.get("sort") or "urgency"
    require(actor, Action.TASK_LIST)
    if order not in ORDERS:
        raise InvalidRequest("unknown sort order", {"sort": [f"one of: {', '.join(ORDERS)}"]})
    if scope in ("all", "mine", "orphaned"):  # the task table serves each: read the tasks straight
        if scope != "mine":
            require(actor, Action.TASK_READ_ALL)
        return uow.task_lists.of_table(scope, actor.username, status, filters, order, page, page_size)
    if scope not in ("available", "candidate"):
        raise InvalidRequest("unknown scope", {"scope": [f"one of: {', '.join(SCOPES)}"]})
    return uow.task_lists.of_person(actor.username, actor.groups, assigned=scope == "available",
                                    offered=status == TaskStatus.OPEN, status=status, filters=filters, order=order,
                                    page=page, page_size=page_size)


def count_tasks(uow: UnitOfWork, actor: Actor, filters: dict[str, Any]) -> int:
    """How many tasks ``list_tasks`` would list, without reading any (the header's number, the other tab's)."""
    return list_tasks(uow, actor, filters, 1, 0)[1]  # a page of none: only the count is asked of the database
