"""``timer``: pause until a moment given as a duration, a date-time (with offset) or a cron expression."""

from __future__ import annotations

import datetime as dt
from typing import Any

from croniter import croniter

from bpm.engine import Clock, NodeDefinition, NodeResult
from bpm.engine.expressions.transforms import parse_duration
from bpm.engine.roles import NodeRole
from bpm.nodes.about import About
from bpm.nodes.effects import TimerRequest, effects_of

TIMER_SCHEMA = {
    "type": "object",
    "properties": {
        "duration": {"type": "string", "pattern": "^P", "minLength": 2},
        "until": {"type": "string", "minLength": 10},
        "offset": {"type": "string", "pattern": "^-?P", "minLength": 2},
        "cron": {"type": "string", "minLength": 9},
        # Count a duration in working time.
        "calendar": {"type": "string", "minLength": 1, "maxLength": 60, "x-picks": "calendar"},
    },
    "oneOf": [{"required": ["duration"]}, {"required": ["until"]}, {"required": ["cron"]}],
    "dependentRequired": {"offset": ["until"]},
    "additionalProperties": False,
}


class TimerSpecError(ValueError):
    """The timer's moment cannot be computed."""


def due_at(data: Any, now: dt.datetime) -> dt.datetime:
    """When a timer with ``data`` started at ``now`` falls due (UTC)."""
    if "duration" in data:
        return now + parse_duration(data["duration"])
    if "cron" in data:
        if not croniter.is_valid(data["cron"]):
            raise TimerSpecError(f"'{data['cron']}' is not a cron expression")
        return croniter(data["cron"], now).get_next(dt.datetime)
    try:
        moment = dt.datetime.fromisoformat(data["until"].replace("Z", "+00:00"))
    except ValueError:
        raise TimerSpecError(f"'{data['until']}' is not an ISO date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if "offset" in data:
        moment = moment + parse_duration(data["offset"])
    return moment.astimezone(dt.UTC)


TIMER_ABOUT = About(
    "Wait", "Waits for a time: a duration (P2D; in working days with a calendar), a date and time (with an "
    "offset: a day before a deadline), or a cron expression (the next Monday at 9:00).",
    "One exit, taken when the time comes.", {"duration": "P2D", "calendar": "default"}, group="Time",
    fields={"duration": "How long to wait (ISO 8601: PT4H, P2D).",
            "until": "A date and time to wait for (with its offset), or an expression giving one.",
            "offset": "With until: moved by this much (-P1D: a day before).",
            "cron": "Wait for the next time a cron expression names (0 9 * * MON).",
            "calendar": "Count the duration in this calendar's working time."})


def timer_type(clock: Clock) -> NodeDefinition:
    """The ``timer`` node type, reading "now" from ``clock``."""

    def timer(data: Any, context: Any, payload: Any, globals_: Any) -> NodeResult:
        if payload is not None:
            fired = payload.get("firedAt") if isinstance(payload, dict) else None
            return NodeResult({"firedAt": fired})
        effects = effects_of(globals_)
        now = dt.datetime.fromtimestamp(clock.now_ms() / 1000, tz=dt.UTC)
        effects.add(TimerRequest(effects.node_id or "", due_at(data, now), data.get("duration"), data.get("calendar")))
        return NodeResult(pause=True)

    return NodeDefinition(timer, metadata={"input": TIMER_SCHEMA, "role": NodeRole.TIMER, "about": TIMER_ABOUT})
