"""``human-task``: pause until a person completes the task (or a timeout escalation fires)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from bpm.engine import Clock, NodeDefinition, NodeResult
from bpm.engine.expressions.transforms import parse_duration
from bpm.engine.roles import NodeRole
from bpm.nodes import items
from bpm.nodes.about import About
from bpm.nodes.effects import TaskRequest, effects_of

DURATION = {"type": "string", "pattern": "^-?P", "minLength": 2}
FIELD_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
FIELD_MAP = {"oneOf": [{"type": "array", "items": FIELD_NAME, "uniqueItems": True},
                       {"type": "object", "additionalProperties": FIELD_NAME}]}
"""Form fields and the request's data fields they stand for: a list where the names are the same."""
MAX_TITLE = 500
"""A task title's length in the inbox (and its column); a longer one is cut with an ellipsis, not refused:
a title computed from a form (a long description) must not fail the instance after earlier steps were done."""
HUMAN_TASK_SCHEMA = {
    "type": "object", "required": ["title"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "form": {"type": "string", "minLength": 1, "x-picks": "form"},
        "assignee": {"type": ["string", "null"], "maxLength": 100, "x-picks": "user"},
        "candidateUsers": {"type": "array", "items": {"type": "string", "minLength": 1}, "x-picks": "users"},
        "candidateGroups": {"type": "array", "items": {"type": "string", "minLength": 1}, "x-picks": "groups"},
        "outcomes": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100},
                     "minItems": 1, "uniqueItems": True},
        "dueIn": DURATION,
        # The calendar dueIn and escalations count in.
        "calendar": {"type": "string", "minLength": 1, "maxLength": 60, "x-picks": "calendar"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 100},
        # Who may decide (bpm.runtime.policy): four-eyes on or off here, and nodes whose deciders are barred.
        "fourEyes": {"type": "boolean"},
        # Several voters (bpm.nodes.votes): users, or "group:<name>" for one vote offered to a group.
        "approvers": {"type": "array", "minItems": 1, "maxItems": 50, "x-picks": "approvers",
                      "items": {"type": "string", "minLength": 1, "maxLength": 106}},
        "completion": {"oneOf": [{"enum": ["all", "any"]},
                                 {"type": "object", "required": ["atLeast"], "additionalProperties": False,
                                  "properties": {"atLeast": {"type": "integer", "minimum": 1}}}]},
        "rejectPolicy": {"enum": ["first-rejects", "majority"]},
        "distinctFrom": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True,
                         "x-picks": "nodes"},
        # The request's data (bpm.engine.data): form fields shown filled from it, and written back to it.
        "prefill": FIELD_MAP,
        "writeBack": FIELD_MAP,
        # One task per item of a list (bpm.nodes.items): item and itemIndex are in scope for the rest of the data.
        "forEach": {"type": "array"},
        "sequential": {"type": "boolean"},
        "escalations": {"type": "array", "items": {
            "type": "object", "required": ["after", "action"],
            "properties": {"after": DURATION, "action": {"enum": ["remind", "reassign", "timeout"]},
                           "to": {"type": "string", "minLength": 1, "x-picks": "user"},
                           "handle": {"type": "string", "minLength": 1}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}
DEFAULT_OUTCOMES = ("complete",)


class TaskPayloadError(ValueError):
    """A resume payload that a completed task could not have produced."""


def allowed_outcomes(data: Any) -> tuple[str, ...]:
    """Outcomes a person can choose, plus the handles of timeout escalations."""
    outcomes = data.get("outcomes") or DEFAULT_OUTCOMES
    escalations = data.get("escalations") or []
    if not isinstance(outcomes, (list, tuple)) or not isinstance(escalations, list):
        return tuple(DEFAULT_OUTCOMES)  # malformed data is reported by schema validation
    timeouts = [e.get("handle") for e in escalations if isinstance(e, dict) and e.get("action") == "timeout"]
    return tuple(outcomes) + tuple(h for h in timeouts if isinstance(h, str))


HUMAN_TASK_ABOUT = About(
    "Task for a person", "Waits until a person decides: it is assigned to one person or offered to candidate people "
    "and groups (or put to a vote of several approvers), shows its form, and is reminded, reassigned or timed out "
    "by its escalations when nobody acts.",
    "One exit per outcome (the buttons the person sees; 'complete' when none are given), plus the handle of each "
    "timeout escalation.",
    {"title": "Approve {{ data.item }} for {{ data.price }}", "form": "approval-decision",
     "assignee": "{{ data.manager }}", "outcomes": ["approve", "reject"], "dueIn": "P2D",
     "escalations": [{"after": "P2D", "action": "remind"}, {"after": "P4D", "action": "timeout", "handle": "late"}]},
    group="People", exits=lambda data: allowed_outcomes(data),
    fields={
        "title": "What the task is called in the inbox; expressions show the request's values.",
        "form": "The form the person fills to decide.",
        "assignee": "The one person who does it (a name, or an expression such as {{ data.manager }}).",
        "candidateUsers": "People who may claim it.",
        "candidateGroups": "Groups whose members may claim it.",
        "outcomes": "The buttons the person chooses from; each is an exit. A rejecting one (reject, deny…) makes "
                    "four-eyes hold.",
        "dueIn": "How long the person has (ISO 8601: P2D), counted in the calendar if one is named.",
        "calendar": "The working calendar dueIn and escalations count in.",
        "priority": "0-100; higher comes first in the inbox.",
        "fourEyes": "Whether the requester is barred from deciding (by default: when an outcome rejects).",
        "approvers": "Several voters (people, or group:<name> for one vote of a group), instead of one person.",
        "completion": "How many approvals carry a vote: all, any, or at least n.",
        "rejectPolicy": "When rejections end a vote: the first one, or a majority.",
        "distinctFrom": "Tasks whose deciders may not decide this one.",
        "prefill": "Fields of the form filled from the request's data.",
        "writeBack": "Fields of the form written back into the request's data.",
        "forEach": "A list: one task per item (item and itemIndex can be read).",
        "sequential": "With forEach: one item after another instead of all at once.",
        "escalations": "After a time without a decision: remind, reassign to someone, or time out by a handle.",
    },
    notes=("Four-eyes: where an outcome rejects, the requester may not decide their own request unless the node or "
           "the process says fourEyes: false; distinctFrom bars whoever decided the named tasks.",))


def human_task_type(clock: Clock) -> NodeDefinition:
    """The ``human-task`` node type, reading due dates from ``clock``."""

    def human_task(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
        if "each" in data and (payload is None or "itemResults" in payload):
            now = dt.datetime.fromtimestamp(clock.now_ms() / 1000, tz=dt.UTC)
            return items.step(data, payload, effects_of(globals_), lambda one: _task_request(
                effects_of(globals_).node_id or "", one, now))
        if payload is None:
            effects = effects_of(globals_)
            now = dt.datetime.fromtimestamp(clock.now_ms() / 1000, tz=dt.UTC)
            for request in _task_requests(effects.node_id or "", data, now):
                effects.add(request)
            return NodeResult(pause=True)
        if not isinstance(payload, dict) or payload.get("outcome") not in allowed_outcomes(data):
            raise TaskPayloadError(f"a task can only complete with one of {', '.join(allowed_outcomes(data))}")
        return NodeResult(payload, next_handle=payload["outcome"], writes=written_back(data, payload.get("data")))

    return NodeDefinition(human_task, metadata={
        "input": HUMAN_TASK_SCHEMA, "role": NodeRole.HUMAN_TASK, "each": "forEach", "about": HUMAN_TASK_ABOUT,
        "refluxoData": {"writeBack": "it writes the request's data (NodeResult.writes), which Refluxo's engine "
                                     "does not keep",
                        "forEach": "one task per item needs this engine's per-item data (item, itemIndex)"}})


def field_map(spec: Any) -> dict[str, str]:
    """``prefill`` / ``writeBack`` as form field -> request data field."""
    if isinstance(spec, dict):
        return {str(k): str(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return {str(name): str(name) for name in spec}
    return {}


def written_back(data: Any, form_data: Any) -> dict[str, Any] | None:
    """The request's fields a completed task sets: its ``writeBack`` fields that the form holds."""
    mapping = field_map(data.get("writeBack"))
    if not mapping or not isinstance(form_data, dict):
        return None
    return {target: form_data[name] for name, target in mapping.items() if name in form_data} or None


def prefilled(node_data: Any, request: Any) -> dict[str, Any]:
    """The form values a task opens with: its ``prefill`` fields, from the request's data as it stands."""
    if not isinstance(node_data, dict) or not isinstance(request, dict):
        return {}
    return {name: request[source] for name, source in field_map(node_data.get("prefill")).items()
            if source in request}


def fit_title(title: str) -> str:
    """``title`` cut to ``MAX_TITLE`` characters, ending in an ellipsis when cut."""
    return title if len(title) <= MAX_TITLE else title[:MAX_TITLE - 1] + "…"


def _task_requests(node_id: str, data: Any, now: dt.datetime) -> list[TaskRequest]:
    """One task, or with ``approvers`` one per voter: a user's assigned to them, a group's offered to it."""
    one = _task_request(node_id, data, now)
    approvers = data.get("approvers")
    if not approvers:
        return [one]
    voters = list(dict.fromkeys(approvers))  # one person, one vote
    return [replace(one, assignee=None if voter.startswith("group:") else voter, candidate_users=(),
                    candidate_groups=(voter.removeprefix("group:"),) if voter.startswith("group:") else (),
                    vote=True) for voter in voters]


def _task_request(node_id: str, data: Any, now: dt.datetime) -> TaskRequest:
    escalations = tuple({**e, "due_at": (now + parse_duration(e["after"])).isoformat()}
                        for e in data.get("escalations", []))
    due_in = data.get("dueIn")
    return TaskRequest(
        node_id=node_id,
        title=fit_title(data["title"]),
        form=data.get("form"),
        assignee=data.get("assignee") or None,
        candidate_users=tuple(data.get("candidateUsers", ())),
        candidate_groups=tuple(data.get("candidateGroups", ())),
        outcomes=tuple(data.get("outcomes") or DEFAULT_OUTCOMES),
        priority=data.get("priority", 50),
        due_at=now + parse_duration(due_in) if due_in else None,
        escalations=escalations,
        due_in=due_in or None,
        calendar=data.get("calendar"),
    )
