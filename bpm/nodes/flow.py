"""Node types that only shape the flow: start, decision, set, end."""

from __future__ import annotations

from typing import Any

from bpm.engine import NodeDefinition, NodeResult
from bpm.engine.expressions.values import truthy
from bpm.engine.roles import NodeRole
from bpm.forms import Forms
from bpm.nodes.about import About, Exits

END_HANDLE = "__end__"
"""The handle an end node leaves by: no edge may use it, so the run always completes there."""

START_SCHEMA = {"type": "object", "properties": {"form": {"type": "string", "minLength": 1, "x-picks": "form"}},
                "additionalProperties": False}
RULES = {"type": "array", "items": {
    "type": "object", "required": ["when", "handle"],
    "properties": {"when": {}, "handle": {"type": "string", "minLength": 1}},
    "additionalProperties": False}}
"""``[{when, handle}]``: a decision's rules, and an inclusive fork's (which takes every true one)."""
DECISION_SCHEMA = {
    "type": "object", "required": ["rules"],
    "properties": {"rules": RULES, "default": {"type": ["string", "null"]}},
    "additionalProperties": False,
}
SET_SCHEMA = {"type": "object", "required": ["values"],
              "properties": {"values": {"type": "object"}, "into": {"enum": ["output", "data"]}},
              "additionalProperties": False}
END_SCHEMA = {"type": "object", "properties": {"outcome": {"type": ["string", "null"], "maxLength": 200}},
              "additionalProperties": False}


def start_type(forms: Forms) -> NodeDefinition:
    """``start``: the start payload, checked against the node's form."""

    def start(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
        return NodeResult(forms.validate(data.get("form"), payload))

    return NodeDefinition(start, metadata={"input": START_SCHEMA, "role": NodeRole.START, "about": START_ABOUT})


def decide(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
    """``decision``: the handle of the first rule whose ``when`` is true, else ``default``."""
    for rule in data["rules"]:
        if truthy(rule["when"]):
            return NodeResult({"handle": rule["handle"]}, next_handle=rule["handle"])
    fallback = data.get("default")
    return NodeResult({"handle": fallback}, next_handle=fallback)


def set_values(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
    """``set``: the resolved values become the node's output (``into: data``: also the request's data)."""
    values = data["values"]
    return NodeResult(values, writes=values if data.get("into") == "data" else None)


def end(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
    """``end``: finish the instance with ``outcome``."""
    return NodeResult({"outcome": data.get("outcome")}, next_handle=END_HANDLE)


def rule_exits(data: Any) -> Exits:
    """A decision's (or an inclusive fork's) exits: each rule's handle, and its default (None: the default edge)."""
    return tuple(dict.fromkeys([*(rule["handle"] for rule in data.get("rules") or ()), data.get("default")]))


START_ABOUT = About(
    "Start", "Where a request begins: the person who starts it fills the node's form, and its values become the "
    "request's data (data.<field> in every later expression).",
    "One exit, to the first step.", {"form": "expense-request"}, group="Start and end",
    fields={"form": "The form the requester fills to start; its fields become the request's data."})
DECISION_ABOUT = About(
    "Decision", "Chooses one way on: the first rule whose condition holds names the exit; when none holds, the "
    "default exit is taken.",
    "One exit per rule's handle, plus the default (a handle named in 'default', or the edge with no handle).",
    {"rules": [{"when": "{{ data.amount > 5000 }}", "handle": "high"}], "default": "low"},
    group="Flow", exits=rule_exits,
    fields={"rules": "In order: a condition (an expression) and the exit taken when it holds; the first that holds "
                     "wins.",
            "default": "The exit taken when no rule holds (empty: the edge without a handle)."})
SET_ABOUT = About(
    "Set values", "Computes values from what is known so far; with into: data they become fields of the "
    "request's data, which later steps and the requester's page show.",
    "One exit.", {"values": {"total": "{{ data.amount * 1.2 }}"}, "into": "data"}, group="Flow",
    fields={"values": "Field names and the values (or expressions) they get.",
            "into": "'data': the values become fields of the request's data; 'output' (the default): only this "
                    "step's output."})
END_ABOUT = About(
    "End", "Finishes the request with an outcome (approved, rejected…), which the requester sees and a calling "
    "process can branch on.", "None: the request is over.", {"outcome": "approved"}, group="Start and end",
    exits=lambda data: (), fields={"outcome": "How the request ended, as the requester and a calling process see it."})
DECISION = NodeDefinition(decide, metadata={"input": DECISION_SCHEMA, "about": DECISION_ABOUT})
SET = NodeDefinition(set_values, metadata={"input": SET_SCHEMA, "about": SET_ABOUT, "refluxoData": {
    "into": "writing into the request's data (NodeResult.writes) needs this engine"}})
END = NodeDefinition(end, metadata={"input": END_SCHEMA, "role": NodeRole.END, "about": END_ABOUT})
