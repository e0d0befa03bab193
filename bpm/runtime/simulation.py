"""Try a process without running it: the pure engine on a clock of its own, with nothing written anywhere.

A designer fills the start form, then for each task picks an outcome and
fills its form, and may move the clock on past timers and escalations; what
comes back is the path the request took, where it waits, and everything the
service would have done (tasks and for whom, mails, webhooks, timers, calls
of other processes, the request's data at each step). The rules are the
engine's and the forms', not a second copy: the same node types run, built
on the simulation's clock.

What is not simulated, and why: a vote is decided by the outcome the step
gives (the tally is the runtime's, over task rows), a called process does
not run (its step gives the outcome and data it would return), and no
person is looked up (the checks of the definition do that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bpm.calendars import CalendarRegistry
from bpm.engine import Limits, ManualClock, NodeRole, Snapshot, WorkflowEngine, nodes_with_role
from bpm.engine.data import request_data
from bpm.engine.errors import DefinitionError, ExpressionError
from bpm.engine.expressions.transforms import parse_duration
from bpm.engine.snapshot import ACTIVE, COMPLETED, FAILED
from bpm.errors import FormInvalid, InvalidRequest
from bpm.nodes import CallRequest, MessageRequest, StepGlobals, TaskRequest, TimerRequest, build_node_types
from bpm.nodes.human_task import allowed_outcomes
from bpm.runtime.actors import Actor
from bpm.runtime.definition_checks import check, errors_only
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.runtime.schemas import FastValidator
from bpm.store.uow import UnitOfWork

MAX_STEPS = 10_000
"""Engine steps one test run may take (a loop with no wait in it stops here, said as such)."""
MAX_ADVANCE = dt.timedelta(days=3660)
TIMER_ACTOR = "timer"


@dataclass
class Waiting:
    """Something the simulated request waits for: a task, a timer or an escalation, a called process."""

    kind: str  # task | timer | escalation | call
    node: str
    due: dt.datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Simulation:
    """One test run's state as it goes; ``report`` is what the API answers."""

    engine: WorkflowEngine
    clock: ManualClock
    snapshot: Snapshot
    calendars: CalendarRegistry = field(default_factory=CalendarRegistry)
    path: list[str] = field(default_factory=list)
    effects: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=dt.UTC)

    def report(self) -> dict[str, Any]:
        snap = self.snapshot
        status = {COMPLETED: "completed", FAILED: "failed"}.get(snap.status, "waiting")
        answer: dict[str, Any] = {"status": status, "path": self.path, "waiting_at": list(snap.paused_at)
                                  if status == "waiting" else [], "effects": self.effects,
                                  "data": _data(self.engine, snap), "clock": _iso(self.now())}
        if snap.status == FAILED:
            runs = snap.context.get(snap.current_node_id or "")
            answer["error"] = snap.metadata.get("failedReason") or (runs.last().error if runs else None) or "failed"
        if snap.status == COMPLETED:
            end = next((node for node in reversed(self.path) if _is_end(self.engine, node)), None)
            runs = snap.context.get(end) if end is not None else None
            output = runs.last().output if runs else None
            answer["outcome"] = output.get("outcome") if isinstance(output, Mapping) else None
        return answer


def simulate(rt: Runtime, actor: Actor, body: Mapping[str, Any], uow: UnitOfWork | None = None) -> dict[str, Any]:
    """Run ``body["definition"]`` from ``body["start"]`` through ``body["steps"]``, then ``advance`` the clock.

    A definition with errors is a DefinitionError (422); a step that names a
    node which is not waiting, an outcome it does not have or data its form
    refuses is a 422 naming the step (``steps[2].data.price``). ``uow``: the caller's, when it has one (a
    publish running the process's scenarios), for the checks' look-ups.
    """
    require(actor, Action.DEFINITION_WRITE)
    definition = body.get("definition")
    errors = errors_only(check(rt, definition, uow))
    if errors:
        raise DefinitionError(errors)
    clock = ManualClock(int(rt.now().timestamp() * 1000))
    node_types = build_node_types(rt.forms, clock)
    engine = WorkflowEngine(definition, node_types, clock=clock, limits=Limits(rt.settings.max_output_bytes),
                            validator=FastValidator())
    start_node = nodes_with_role(engine.workflow.nodes, node_types, NodeRole.START)[0]
    start = body.get("start") or {}
    by = start.get("by") or actor.username
    form = start_node.data.get("form") if isinstance(start_node.data, Mapping) else None
    data = _valid(rt, "start", form, rt.forms.fill_actor(form, start.get("data") or {}, by), None)
    run = Simulation(engine, clock, engine.initial_snapshot(start_node.id, str(engine.workflow.id or "test")),
                     rt.calendars)
    _run(run, data, None)
    for i, step in enumerate(body.get("steps") or ()):
        _step(rt, run, i, step, actor)
    advance = body.get("advance")
    if advance:
        _advance(run, advance)
    return run.report()


def _step(rt: Runtime, run: Simulation, i: int, step: Mapping[str, Any], actor: Actor) -> None:
    where = f"steps[{i}]"
    if step.get("advance") is not None and step.get("node") is None:
        _advance(run, step["advance"], f"{where}.advance")
        return
    node_id = step.get("node")
    waiting = [w for w in run.waiting if w.node == node_id and w.kind in ("task", "call")]
    if run.snapshot.status != "paused" or node_id not in run.snapshot.paused_at or not waiting:
        now = ", ".join(run.snapshot.paused_at) if run.snapshot.status == "paused" else "nothing (it has ended)"
        raise InvalidRequest(f"step {i + 1}: the request does not wait at {node_id!r}",
                             {f"{where}.node": [f"it waits at: {now}"]})
    node = run.engine.workflow.nodes_by_id[node_id]
    data = node.data if isinstance(node.data, Mapping) else {}
    if waiting[0].kind == "call":
        payload: dict[str, Any] = {"childId": f"test-{node_id}", "outcome": step.get("outcome"),
                                   "data": step.get("data") or {}}
    else:
        outcomes = allowed_outcomes(data)
        outcome = step.get("outcome") or (outcomes[0] if len(outcomes) == 1 else None)
        if outcome not in outcomes:
            raise InvalidRequest(f"step {i + 1}: {node_id!r} has no outcome {outcome!r}",
                                 {f"{where}.outcome": [f"one of: {', '.join(outcomes)}"]})
        by = step.get("by") or actor.username
        form = waiting[0].detail.get("form")
        filled = _valid(rt, where, form, rt.forms.fill_actor(form, step.get("data") or {}, by), outcome)
        payload = {"outcome": outcome, "data": filled, "completedBy": by, "completedAt": _iso(run.now())}
    run.waiting = [w for w in run.waiting if w.node != node_id]
    _run(run, payload, node_id)


def _advance(run: Simulation, advance: Any, where: str = "advance") -> None:
    """Move the clock by ``advance``, firing each timer and escalation that falls due, in order."""
    try:
        by = parse_duration(advance)
    except (ValueError, TypeError, ExpressionError):
        raise InvalidRequest("advance is an ISO 8601 duration", {where: ["an ISO 8601 duration: PT1H, P2D"]}) \
            from None
    if not dt.timedelta(0) <= by <= MAX_ADVANCE:
        raise InvalidRequest("advance out of range", {where: ["from zero to ten years"]})
    until = run.now() + by
    while run.snapshot.status == "paused":
        due = sorted((w for w in run.waiting if w.due is not None and w.due <= until), key=lambda w: w.due)
        if not due:
            break
        first = due[0]
        run.clock.set(int(first.due.timestamp() * 1000))  # type: ignore[union-attr]
        run.waiting.remove(first)
        if first.kind == "timer":
            _run(run, {"firedAt": _iso(run.now())}, first.node)
        else:
            _escalate(run, first)
    run.clock.set(int(until.timestamp() * 1000))


def _escalate(run: Simulation, escalation: Waiting) -> None:
    action, to = escalation.detail.get("action"), escalation.detail.get("to")
    task = next((w for w in run.waiting if w.kind == "task" and w.node == escalation.node), None)
    if action == "timeout":
        run.effects.append({"kind": "escalation", "node": escalation.node, "action": "timeout",
                            "handle": escalation.detail.get("handle"), "at": _iso(run.now())})
        run.waiting = [w for w in run.waiting if w.node != escalation.node]
        _run(run, {"outcome": escalation.detail.get("handle"), "data": {}, "completedBy": TIMER_ACTOR,
                   "completedAt": _iso(run.now())}, escalation.node)
        return
    effect = {"kind": "escalation", "node": escalation.node, "action": action, "at": _iso(run.now())}
    if action == "reassign" and task is not None:
        task.detail.update(assignee=to, candidateUsers=[], candidateGroups=[])
        effect["to"] = to
    elif action == "remind" and task is not None:
        effect["to"] = [task.detail.get("assignee")] if task.detail.get("assignee") else \
            task.detail.get("candidateUsers", []) + [f"group:{g}" for g in task.detail.get("candidateGroups", [])]
    run.effects.append(effect)


def _run(run: Simulation, payload: Any, resume: str | None) -> None:
    """Step the engine until the request waits, ends or fails; record the path and what it asked for."""
    engine, globals_ = run.engine, StepGlobals()
    first = True
    while True:
        before = run.snapshot
        node_id = resume if first and resume is not None and before.positions is not None \
            else before.current_node_id
        globals_.effects.node_id = node_id
        seen = len(globals_.effects.items)
        run.snapshot = engine.execute_step(before, payload if first else None, globals_,
                                           resume=resume if first else None)
        if node_id is not None and not (first and resume is not None):
            run.path.append(node_id)  # a resumed node is on the path already: from when it began to wait
        for effect in globals_.effects.items[seen:]:
            _effect(run, effect)
        first = False
        if run.snapshot.status != ACTIVE:
            return
        if len(run.path) > MAX_STEPS:
            run.snapshot = run.snapshot._replace(status=FAILED, metadata={
                **run.snapshot.metadata, "failedReason": f"more than {MAX_STEPS:,} steps without waiting: a loop"})
            return


def _working(run: Simulation, calendar: Any, duration: str | None, plain: dt.datetime | None) -> dt.datetime | None:
    """When a duration from now ends: in the working time of ``calendar`` (the node's, else the process's), as
    the service counts it, or ``plain`` (the engine's plain time) without one."""
    calendar = calendar or run.engine.workflow.extra.get("calendar")
    if calendar and duration and calendar in run.calendars:
        return run.calendars.due(calendar, run.now(), duration)
    return plain


def _effect(run: Simulation, effect: Any) -> None:
    at = _iso(run.now())
    if isinstance(effect, TaskRequest):
        effect = replace(effect, due_at=_working(run, effect.calendar, effect.due_in, effect.due_at))
        detail = {"title": effect.title, "form": effect.form, "assignee": effect.assignee,
                  "candidateUsers": list(effect.candidate_users), "candidateGroups": list(effect.candidate_groups),
                  "outcomes": list(effect.outcomes)}
        run.effects.append({"kind": "task", "node": effect.node_id, "at": at,
                            **{k: v for k, v in detail.items() if k != "form"}, "form": effect.form,
                            "due": _iso(effect.due_at) if effect.due_at else None})
        if not any(w.kind == "task" and w.node == effect.node_id for w in run.waiting):
            run.waiting.append(Waiting("task", effect.node_id, None, detail))
        for escalation in effect.escalations:
            due = _working(run, effect.calendar, escalation["after"], run.now() + parse_duration(escalation["after"]))
            run.waiting.append(Waiting("escalation", effect.node_id, due, dict(escalation)))
    elif isinstance(effect, TimerRequest):
        due = _working(run, effect.calendar, effect.duration, effect.due_at) or effect.due_at
        run.effects.append({"kind": "timer", "node": effect.node_id, "at": at, "due": _iso(due)})
        run.waiting.append(Waiting("timer", effect.node_id, due))
    elif isinstance(effect, MessageRequest):
        run.effects.append({"kind": effect.channel if effect.channel != "inbox" else "notice",
                            "node": effect.node_id, "at": at, "to": list(effect.recipients),
                            "subject": effect.subject, "body": effect.body, "template": effect.template})
    elif isinstance(effect, CallRequest):
        run.effects.append({"kind": "call", "node": effect.node_id, "at": at, "process": effect.process,
                            "version": effect.version, "input": effect.input})
        run.waiting.append(Waiting("call", effect.node_id))


TEST_FILE = "(a file, in a test run)"
"""What a file field holds in a test run: nothing is uploaded or kept."""


def _valid(rt: Runtime, where: str, form: Any, data: Any, outcome: str | None) -> dict[str, Any]:
    """``data`` checked against ``form``; a refusal names the step's fields (``start.data.price``). A file field
    is taken as filled: a test run uploads nothing."""
    if isinstance(form, str) and form in rt.forms and isinstance(data, dict):
        data = {**dict.fromkeys(rt.forms.get(form).file_fields, TEST_FILE), **data}
    try:
        return rt.forms.validate(form if isinstance(form, str) else None, data, outcome)
    except FormInvalid as refused:
        raise FormInvalid(f"{where}: {refused.message}" if hasattr(refused, "message") else str(refused),
                          {f"{where}.data.{name}": messages for name, messages in refused.errors.items()}) \
            from None


def _data(engine: WorkflowEngine, snap: Snapshot) -> Any:
    return request_data(snap.context, engine.start_id, snap.data)


def _is_end(engine: WorkflowEngine, node_id: str) -> bool:
    node = engine.workflow.nodes_by_id.get(node_id)
    return node is not None and nodes_with_role([node], engine.node_definitions, NodeRole.END) != []


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
