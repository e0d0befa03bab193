"""Why a task nobody can act on is stuck, in words for the admin who fixes it (the list itself is the query
``task_lists._orphaned``): its assignee is gone or may not decide it, or everyone it is offered to is."""

from __future__ import annotations

from collections.abc import Sequence

from bpm.store.models import TaskRecord
from bpm.store.uow import UnitOfWork


def why_stuck(uow: UnitOfWork, tasks: Sequence[TaskRecord]) -> dict[str, str]:
    """``{task id: why nobody can act on it}`` for a page of stuck tasks (two queries for the page)."""
    groups = sorted({g for t in tasks if t.assignee is None for g in t.candidate_groups or ()})
    members: dict[str, list[str]] = {}
    for username, group in uow.people.memberships_in(groups):
        members.setdefault(group, []).append(username)
    named = {t.assignee for t in tasks if t.assignee} | {u for t in tasks for u in t.candidate_users or ()} \
        | {u for names in members.values() for u in names}
    active = {user.username for user in uow.people.users(named, active_only=True)}
    return {task.id: _said(task, active, members) for task in tasks}


def _said(task: TaskRecord, active: set[str], members: dict[str, list[str]]) -> str:
    barred = set(task.barred or ())
    if task.assignee is not None:
        if task.assignee not in active:
            return f"assigned to {task.assignee}, who is not an active user"
        return f"assigned to {task.assignee}, who may not decide it (four-eyes)"
    people = set(task.candidate_users or ()) | {u for g in task.candidate_groups or () for u in members.get(g, ())}
    if not task.candidate_users and not task.candidate_groups:
        return "offered to nobody"
    if not people:
        return f"offered to {', '.join(task.candidate_groups)}, which has no members"
    barred_here = sorted(people & barred)
    gone = sorted(people - active)
    parts = ([f"{', '.join(barred_here)} may not decide it (four-eyes)"] if barred_here else []) + \
        ([f"{', '.join(gone)} {'is' if len(gone) == 1 else 'are'} not active"] if gone else [])
    return "everyone it is offered to is out: " + "; ".join(parts)
