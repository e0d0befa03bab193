"""One task per item: a ``human-task`` with ``forEach`` (one review per department named in the form).

The engine resolves the node's data once per item, with ``item`` and
``itemIndex`` in scope (``NodeDefinition`` metadata ``"each": "forEach"``),
so each item's task has its own title, assignee and candidates. Items run in
parallel (every task at once) or one after the other (``sequential: true``:
the next task opens when the one before is done). After each completion the
runtime resumes the node with every item's result so far (``itemResults``);
the node decides by the same rules as a vote (``completion``: all, any, at
least n; ``rejectPolicy``), pauses again while undecided, and its output
lists every item's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bpm.engine import NodeResult
from bpm.nodes import votes
from bpm.nodes.effects import Effects, TaskRequest


def step(data: Any, payload: Any, effects: Effects, request_for: Callable[[Any], TaskRequest]) -> NodeResult:
    """Open the items' tasks (payload None), or decide from ``payload["itemResults"]`` and open the next."""
    listed, each = data["forEach"], data["each"]
    outcomes = data.get("outcomes") or ["complete"]
    if not listed:  # nothing to review: done at once, as approved
        approve = next((o for o in outcomes if not votes.rejects(o)), outcomes[0])
        return NodeResult({"outcome": approve, "items": []}, next_handle=approve)
    sequential = bool(data.get("sequential"))
    if payload is None:
        for index in [0] if sequential else range(len(listed)):
            effects.add(_request(request_for, each, listed, index))
        return NodeResult(pause=True)
    results = sorted(payload["itemResults"], key=lambda r: r["index"])
    cast = [r["outcome"] for r in payload["itemResults"]]
    decided = votes.decide(cast, len(listed), data.get("completion", "all"),
                           data.get("rejectPolicy", "first-rejects"), outcomes)
    if decided is None:
        if sequential and len(results) < len(listed):
            effects.add(_request(request_for, each, listed, len(results)))
        return NodeResult(pause=True)
    return NodeResult({"outcome": decided, "items": results}, next_handle=decided)


def _request(request_for: Callable[[Any], TaskRequest], each: list[Any], listed: list[Any],
             index: int) -> TaskRequest:
    return replace(request_for(each[index]), vote=True, item_index=index, item=listed[index])
