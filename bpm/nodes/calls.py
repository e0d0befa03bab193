"""``call``: run another published process as one step, and go on with what it gave back.

The step pauses while the child instance runs (its own tasks, history and
audit trail); when the child ends the service resumes the step with the
child's outcome and request data (``{"childId", "outcome", "data"}``). The
node's ``output`` maps the child's data fields into this request's data, and
it leaves by the child's end outcome when ``outcomes`` lists it, else by its
default exit.
"""

from __future__ import annotations

from typing import Any

from bpm.engine import NodeDefinition, NodeResult
from bpm.engine.roles import NodeRole
from bpm.nodes.about import About
from bpm.nodes.effects import CallRequest, effects_of

FIELD = {"type": "string", "minLength": 1, "maxLength": 100}
CALL_SCHEMA = {
    "type": "object", "required": ["process"],
    "properties": {
        "process": {"type": "string", "minLength": 1, "maxLength": 100, "x-picks": "process"},
        "version": {"oneOf": [{"const": "latest"}, {"type": "integer", "minimum": 1}]},
        "input": {"type": "object"},  # the child's start data: field -> value (expressions welcome)
        "output": {"type": "object", "additionalProperties": FIELD},  # this request's field -> the child's field
        "outcomes": {"type": "array", "items": FIELD, "uniqueItems": True},
        "onParentEnd": {"enum": ["cancel", "leave"]},
    },
    "additionalProperties": False,
}


class CallPayloadError(ValueError):
    """A resume payload that no ended child could have produced."""


def call(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
    """Ask for the child (pausing), or map what the ended child gave back and leave by its outcome."""
    if payload is None:
        version = data.get("version", "latest")
        effects = effects_of(globals_)
        effects.add(CallRequest(effects.node_id or "", data["process"], None if version == "latest" else version,
                                dict(data.get("input") or {})))
        return NodeResult(pause=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("childId"), str):
        raise CallPayloadError("a call resumes with the ended child's {childId, outcome, data}")
    child_data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    writes = {mine: child_data.get(theirs) for mine, theirs in (data.get("output") or {}).items()}
    outcome = payload.get("outcome")
    handle = outcome if outcome in (data.get("outcomes") or []) else None
    return NodeResult({"childId": payload["childId"], "outcome": outcome, "output": writes},
                      next_handle=handle, writes=writes or None)


CALL_ABOUT = About(
    "Call a process", "Runs another published process as one step (a contract review inside a purchase) and waits "
    "for it; the child's data fields named in output come back into this request's data.",
    "One exit per listed child outcome (outcomes), plus the default exit for any other.",
    {"process": "contract-review", "input": {"supplier": "{{ data.supplier }}"}, "output": {"signed": "signed"},
     "outcomes": ["rejected"]}, group="Flow",
    exits=lambda data: (*data.get("outcomes", ()), None),
    fields={"process": "The published process to run.",
            "version": "Which version: latest (when the call starts), or a number.",
            "input": "The child's start data: its fields and their values (expressions welcome).",
            "output": "Fields of this request's data and the child's fields they get.",
            "outcomes": "Child outcomes that get an exit of their own.",
            "onParentEnd": "If this request ends first: cancel the child, or leave it running."})
CALL = NodeDefinition(call, metadata={
    "input": CALL_SCHEMA, "role": NodeRole.CALL, "about": CALL_ABOUT,
    "refluxo": "Refluxo's engine has no sub-processes: a call needs this service to run the child"})
