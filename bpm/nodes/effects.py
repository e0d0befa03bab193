"""What a step asks the service to do once it commits: create a task, set a timer, send a message.

Executors stay free of I/O: they append requests here (reached through the
engine's ``globals``, which never enter a snapshot), and the runtime turns
them into rows in the same transaction as the new snapshot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskRequest:
    """A human-task node paused: open a task."""

    node_id: str
    title: str
    form: str | None
    assignee: str | None
    candidate_users: tuple[str, ...]
    candidate_groups: tuple[str, ...]
    outcomes: tuple[str, ...]
    priority: int
    due_at: dt.datetime | None
    escalations: tuple[dict[str, Any], ...] = ()
    vote: bool = False  # one of several voters' tasks of this node (bpm.nodes.votes)
    due_in: str | None = None  # the node's dueIn, for the runtime to count in a business calendar
    calendar: str | None = None  # the node's own calendar (else the process's, if it names one)
    item_index: int | None = None  # forEach: which item of the list this task is for (bpm.nodes.items)
    item: Any = None
    form_version: int | None = None  # the version of ``form`` the process pinned (set by the runtime)


@dataclass(frozen=True)
class TimerRequest:
    """A timer node paused: wake the instance at ``due_at``."""

    node_id: str
    due_at: dt.datetime
    duration: str | None = None  # a duration timer's, for the runtime to count in a business calendar
    calendar: str | None = None


@dataclass(frozen=True)
class MessageRequest:
    """A notify node ran: deliver a message after commit."""

    node_id: str
    message_id: str
    channel: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    template: str | None


@dataclass(frozen=True)
class CallRequest:
    """A call node paused: start a child instance of ``process`` with ``input`` as its start data."""

    node_id: str
    process: str
    version: int | None  # None: the newest published version at the time of the call
    input: dict[str, Any]


Effect = TaskRequest | TimerRequest | MessageRequest | CallRequest


@dataclass
class Effects:
    """Requests collected during one runtime call; ``node_id`` is set by the runner before each step."""

    node_id: str | None = None
    items: list[Effect] = field(default_factory=list)

    def add(self, effect: Effect) -> None:
        """Record a request."""
        self.items.append(effect)


@dataclass
class StepGlobals:
    """The engine ``globals`` the runtime passes: the effect log and secrets, never stored."""

    effects: Effects = field(default_factory=Effects)
    secrets: dict[str, str] = field(default_factory=dict)


def effects_of(globals_: Any) -> Effects:
    """The effect log in ``globals``, or a throwaway one (dry runs pass no globals)."""
    return globals_.effects if isinstance(globals_, StepGlobals) else Effects()
