"""Open offers: the ``task_candidate`` rows that say who may claim a task now.

A task's candidates stay on the task row for good (its history). The rows
here exist only while the task is open and unclaimed: made with the task
(unless it is assigned outright), withdrawn when someone claims it, is
given it, completes it or cancels its instance, and made again when it is
given back. So "offered to me or my groups" reads the work waiting now,
not every task a group was ever offered, and needs no look at the task
rows to know whether a task is still free; each row carries the task's
urgency, so an inbox page is ordered and counted from these narrow rows.

Task actions update a task through one function that calls ``follow``;
cancelling an instance calls ``withdraw_all_of_instance``. An action that
comes to change a task's priority or due date must refresh its offers too.
"""

from __future__ import annotations

from bpm.store.models import TaskRecord
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import TaskStatus


def claimable(task: TaskRecord) -> bool:
    """Open, unclaimed and offered to someone: the tasks that have offer rows."""
    return (task.status == TaskStatus.OPEN and task.assignee is None
            and (task.candidate_users != [] or task.candidate_groups != []))


def offer(uow: UnitOfWork, task: TaskRecord) -> None:
    """Queue one row per candidate user and group of a claimable task."""
    if not claimable(task):
        return
    for kind, names in (("user", task.candidate_users), ("group", task.candidate_groups)):
        for name in names:
            uow.offers.add(task, kind, name)


def follow(uow: UnitOfWork, task: TaskRecord, was_claimable: bool) -> None:
    """After a change to ``task``: withdraw its offers if it stopped being claimable, make them if it became so.

    Called after the task's own update is queued, so every action locks the
    task row before its offers.
    """
    if was_claimable and not claimable(task):
        uow.offers.withdraw(task.id)
    elif not was_claimable:
        offer(uow, task)


def withdraw_all_of_instance(uow: UnitOfWork, instance_id: str) -> None:
    """Remove the offers of every task of an instance (closed and claimed tasks have none)."""
    uow.offers.withdraw_all_of_instance(instance_id)
