"""Approvals with several voters: when a vote is decided, and what it decided.

A ``human-task`` with ``approvers`` gives each voter a task of their own
(a user's is assigned to them, a group's is offered to the group: one vote
per group). ``completion`` says how many approvals carry it (``all``,
``any``, ``{"atLeast": n}``); ``rejectPolicy`` when rejections end it
(``first-rejects``: the first; ``majority``: more than half the voters). A
vote is also decided as soon as the approvals it needs can no longer come.
The rule is pure, so the runtime asks it after every vote, and tests ask it
as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

REJECTING = ("reject", "deny", "decline", "refuse")  # the one list: four-eyes, votes and the pages ask rejects()
COMPLETIONS = ("all", "any")
REJECT_POLICIES = ("first-rejects", "majority")


def rejects(outcome: str) -> bool:
    """A rejecting outcome (``reject…``, ``deny…``, ``decline…``, ``refuse…``)."""
    return outcome.lower().startswith(REJECTING)


def needed(completion: Any, voters: int) -> int:
    """How many approvals carry the vote."""
    if completion == "any":
        return 1
    if isinstance(completion, dict) and isinstance(completion.get("atLeast"), int):
        return max(1, min(completion["atLeast"], voters))
    return voters  # "all", the default


def decide(cast: Sequence[str], voters: int, completion: Any, reject_policy: Any,
           outcomes: Sequence[str]) -> str | None:
    """The outcome the votes ``cast`` so far decide, or None while it is open.

    The approving outcome is the task's first that does not reject, the
    rejecting one its first that does.
    """
    approve = next((o for o in outcomes if not rejects(o)), outcomes[0])
    reject = next((o for o in outcomes if rejects(o)), None)
    approvals = sum(1 for outcome in cast if not rejects(outcome))
    rejections = len(cast) - approvals
    if approvals >= needed(completion, voters):
        return approve
    if reject is None:
        return None
    if reject_policy == "majority":
        if rejections * 2 > voters:
            return reject
    elif rejections:
        return reject  # first-rejects, the default
    if approvals + (voters - len(cast)) < needed(completion, voters):
        return reject  # the approvals it needs can no longer come
    return None
