"""Node types for parallel branches: ``fork`` (every exit at once, or those whose condition holds) and ``join``.

The engine keeps the positions and counts the arrivals (``bpm.engine.parallel``);
these types only say which exits a fork takes and when a join has had enough.
"""

from __future__ import annotations

from typing import Any

from bpm.engine import NodeDefinition, NodeResult
from bpm.engine.expressions.values import truthy
from bpm.engine.node import EVERY_EXIT
from bpm.engine.roles import NodeRole
from bpm.nodes.about import About
from bpm.nodes.flow import RULES, rule_exits

FORK_SCHEMA = {
    "type": "object",
    "properties": {"inclusive": {"type": "boolean"}, "rules": RULES, "default": {"type": ["string", "null"]}},
    "additionalProperties": False,
}
JOIN_MODE = {"oneOf": [{"enum": ["all", "first"]},
                       {"type": "object", "required": ["atLeast"], "additionalProperties": False,
                        "properties": {"atLeast": {"type": "integer", "minimum": 1}}}]}
JOIN_SCHEMA = {"type": "object", "properties": {"mode": JOIN_MODE, "cancelRemaining": {"type": "boolean"}},
               "additionalProperties": False}


class NoBranchTaken(ValueError):
    """An inclusive fork whose conditions were all false, with no default exit."""


def fork(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
    """Every exit at once; inclusive: the exits whose rule holds, else the default."""
    if not data.get("inclusive"):
        return NodeResult({"handles": None}, branches=EVERY_EXIT)
    handles = list(dict.fromkeys(rule["handle"] for rule in data.get("rules", []) if truthy(rule["when"])))
    if not handles:
        fallback = data.get("default")
        if fallback is None:
            raise NoBranchTaken("no condition of the inclusive fork holds, and it has no default exit")
        handles = [fallback]
    return NodeResult({"handles": handles}, branches=tuple(handles))


def needed(mode: Any, of: int) -> int:
    """How many of ``of`` branches a join in ``mode`` waits for."""
    if mode == "first":
        return 1
    if isinstance(mode, dict):
        return min(int(mode["atLeast"]), of)
    return of


def join(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
    """Pause until enough branches have arrived (the engine gives the arrivals as the payload), then go on."""
    arrived, of = payload["arrived"], payload["of"]
    if len(arrived) < needed(data.get("mode", "all"), of):
        return NodeResult(pause=True)
    output: dict[str, Any] = {"arrived": arrived, "of": of}
    if data.get("cancelRemaining") and len(arrived) < of:
        output["cancelRemaining"] = True
    return NodeResult(output)


ONE_AT_A_TIME = "Refluxo's engine runs one node at a time; parallel branches need this engine"
FORK_ABOUT = About(
    "Parallel split", "Starts several branches at once (a review by legal and by finance side by side); inclusive: "
    "only the branches whose rule holds, else the default.",
    "Every edge that leaves it is a branch; inclusive: one exit per rule's handle, plus the default.",
    {"inclusive": False}, group="Flow", exits=lambda data: rule_exits(data) if data.get("inclusive") else None,
    fields={"inclusive": "Only the branches whose rule holds (else every edge).",
            "rules": "With inclusive: a condition per branch and its exit.",
            "default": "With inclusive: the exit when no rule holds."})
JOIN_ABOUT = About(
    "Join", "Waits for the branches of a split: all of them, the first, or at least some; the rest can be "
    "cancelled when enough have arrived.", "One exit, taken once enough branches have arrived.",
    {"mode": "all"}, group="Flow",
    fields={"mode": "all, first, or {atLeast: n} branches before going on.",
            "cancelRemaining": "Close the branches still running once enough have arrived."})
FORK = NodeDefinition(fork, metadata={"input": FORK_SCHEMA, "role": NodeRole.FORK, "refluxo": ONE_AT_A_TIME,
                                      "about": FORK_ABOUT})
JOIN = NodeDefinition(join, metadata={"input": JOIN_SCHEMA, "role": NodeRole.JOIN, "refluxo": ONE_AT_A_TIME,
                                      "about": JOIN_ABOUT})
