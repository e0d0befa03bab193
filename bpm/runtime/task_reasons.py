"""Why a person sees a task: the one line every task page opens with ("offered to your group finance",
"handed to you by Bob", "standing in for ann, away until 12 Dec 2026"), so nobody wonders whether a task
reached them by mistake.

Read from the task and its own history events (who handed it on last, and how), never from a role alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from bpm.runtime.actors import Actor
from bpm.runtime.policy import standing_in_for
from bpm.store.models import HistoryEntry, ProcessInstanceRecord, TaskRecord
from bpm.store.vocabulary import Cause, TaskStatus

HANDING_ON = (Cause.TASK_DELEGATED, Cause.TASK_REASSIGNED, Cause.TASK_ESCALATED, Cause.TASK_CLAIMED)


def why_you_see(actor: Actor, task: TaskRecord, instance: ProcessInstanceRecord,
                history: Iterable[HistoryEntry]) -> str | None:
    """The reason ``actor`` sees ``task``, in words for them (None: a reader of everything, nothing to say)."""
    me = actor.username
    stand_in = standing_in_for(actor, task) if task.status == TaskStatus.OPEN else None
    if stand_in is not None:
        person = stand_in.person
        how = ("assigned to" if task.assignee else "offered to" if person in task.candidate_users
               else "offered to a group of")
        return f"standing in for {person}, away until {stand_in.until.strftime('%-d %b %Y')}: {how} {person}"
    if task.assignee == me:
        return _how_it_came_to_you(task, history)
    if task.assignee is None:
        if me in (task.candidate_users or []):
            return "offered to you by name: take it to work on it"
        groups = sorted(set(task.candidate_groups or []) & actor.groups)
        if groups:
            return f"offered to your group {', '.join(groups)}"
    if instance.started_by == me:
        waiting = task.assignee or ", ".join([*(task.candidate_groups or []), *(task.candidate_users or [])])
        return f"your request, waiting for {waiting}" if waiting else "your request"
    if task.delegated_by == me:
        return f"you handed it to {task.assignee}"
    return None


def _how_it_came_to_you(task: TaskRecord, history: Iterable[HistoryEntry]) -> str:
    last = None
    for entry in history:
        if entry.task_id == task.id and entry.cause in HANDING_ON:
            last = entry
    if last is None or last.cause == Cause.TASK_CLAIMED:
        return "assigned to you" if last is None else "you took it from the group's tasks"
    if last.cause == Cause.TASK_DELEGATED:
        return f"handed to you by {last.actor}" + (f" for {last.on_behalf_of}" if last.on_behalf_of else "")
    if last.cause == Cause.TASK_REASSIGNED:
        return f"reassigned to you by {last.actor}, an admin"
    return "passed to you because it waited too long"
