"""What actions hand back to adapters: rows plus the related facts the action already knows."""

from __future__ import annotations

from dataclasses import dataclass, field

from bpm.store.models import TaskRecord


@dataclass
class TaskView:
    """A task with its candidate users and groups (kept in their own table)."""

    task: TaskRecord
    candidate_users: list[str] = field(default_factory=list)
    candidate_groups: list[str] = field(default_factory=list)
