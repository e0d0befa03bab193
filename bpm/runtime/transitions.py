"""Which status moves each thing allows: one small table per thing, asked before a status changes.

As viewflow's transitions, but as data: a move has a name, the statuses it
may start from, and what the person is told when the thing is not in one
of them (always a 409: someone or something moved it first). The runtime
calls ``INSTANCE.require("cancel", instance.status)`` instead of writing the
guard at each place; a page asks ``allows`` to offer a button.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bpm.errors import ConflictError
from bpm.store.vocabulary import InstanceStatus, JobStatus, TaskStatus

# Groups of instance statuses, named once.
CLOSED = frozenset({InstanceStatus.COMPLETED, InstanceStatus.CANCELLED})  # nothing more happens; nothing to fix
STOPPED = frozenset({InstanceStatus.FAILED, InstanceStatus.ERROR})  # stopped on an error: an admin may retry
ENDED = CLOSED | {InstanceStatus.FAILED}  # runs no more by itself (retention keeps or purges these)
RUNNING = frozenset({InstanceStatus.ACTIVE, InstanceStatus.PAUSED, InstanceStatus.ERROR})  # still on its way


@dataclass(frozen=True)
class Move:
    source: frozenset[str]  # the statuses the move may start from
    refused: str  # said when the thing is elsewhere; {status} is where it is


@dataclass(frozen=True)
class Moves:
    """The moves of one kind of thing, by name."""

    moves: Mapping[str, Move]

    def allows(self, move: str, status: str) -> bool:
        return status in self.moves[move].source

    def require(self, move: str, status: str) -> None:
        """Go on if ``move`` may start from ``status``; otherwise ConflictError, saying why."""
        found = self.moves[move]
        if status not in found.source:
            raise ConflictError(found.refused.format(status=status))


INSTANCE = Moves({
    "cancel": Move(RUNNING | {InstanceStatus.FAILED}, "the instance is already {status}"),
    "repair": Move(RUNNING | {InstanceStatus.FAILED}, "the instance is already {status}; there is nothing to repair"),
    "retry": Move(STOPPED, "only failed or erroring instances can be retried; this one is {status}"),
    "migrate": Move(RUNNING, "the instance is {status}: it ended meanwhile"),
})

TASK = Moves({
    "complete": Move(frozenset({TaskStatus.OPEN}), "the task is already {status}"),
    "change": Move(frozenset({TaskStatus.OPEN}), "the task is already {status}"),  # claim, delegate
    "escalate": Move(frozenset({TaskStatus.OPEN}), "the task is {status}: nothing to escalate"),
    "cancel": Move(frozenset({TaskStatus.OPEN}), "the task is already {status}"),
})

# Claiming a due job and cancelling pending ones are single statements in the store (bpm.store.repositories.jobs):
# their WHERE says the same as "pending" here.
JOB = Moves({
    "finish": Move(frozenset({JobStatus.RUNNING}), "the job is {status}: no longer this worker's"),
    "give back": Move(frozenset({JobStatus.RUNNING}), "the job is {status}: no longer this worker's"),
    "retry incident": Move(frozenset({JobStatus.INCIDENT}), "the job is {status}, not an incident"),
})
