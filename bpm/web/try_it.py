"""Try it: a test run of the draft in the pure engine, nothing written. Fill the start form, then for each task
pick an outcome and fill its form, move the clock past timers and escalations; see the path, where it waits and
what would have happened (tasks for whom, mails, webhooks, the data). A run can be kept as a scenario.

The run so far travels in the page (``run``, JSON: start data and the steps, as ``POST
/api/definitions/simulate`` takes them) and is run again from the start on every post: nothing is kept on the
server until it is saved as a scenario.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.engine.errors import DefinitionError
from bpm.engine.roles import NodeRole, role_of
from bpm.errors import InvalidRequest
from bpm.http.errors import field_errors, message_of
from bpm.runtime import designer, editor, scenarios, simulation
from bpm.runtime.designer import label_of
from bpm.web.form_fields import form_fields, parse_posted
from bpm.web.outcome import ANSWERED, act_and_say
from bpm.web.pages import render_page

bp = Blueprint("try_it", __name__)
MAX_RUN_BYTES = 200_000


def _draft(key: str) -> editor.EditorState:
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        return editor.state(rt, uow, actor, key)


def _run_of(posted: Mapping[str, str]) -> dict[str, Any]:
    raw = posted.get("run") or "{}"
    if len(raw) > MAX_RUN_BYTES:
        raise InvalidRequest("the test run is too long", {"run": ["start again"]})
    try:
        run = json.loads(raw)
    except ValueError:
        raise InvalidRequest("not a test run", {"run": ["start again"]}) from None
    if not isinstance(run, dict):
        raise InvalidRequest("not a test run", {"run": ["start again"]})
    return {"start": run.get("start") or {"data": {}}, "steps": list(run.get("steps") or [])}


def _form_of(form_id: Any) -> Any:
    forms = runtime().forms
    return forms.get(form_id) if isinstance(form_id, str) and form_id in forms else None


def _start_form(state: editor.EditorState) -> Any:
    node_types = runtime().node_types
    start = next((n for n in state.body.get("nodes", []) if isinstance(n, Mapping)
                  and role_of(node_types.get(n.get("type"))) == NodeRole.START), None)
    data = start.get("data") if isinstance(start, Mapping) and isinstance(start.get("data"), Mapping) else {}
    return _form_of(data.get("form"))


def first_context(state: editor.EditorState) -> dict[str, Any]:
    """What a test run's first form needs (the editor page shows it under the canvas)."""
    form = _start_form(state)
    return {"result": None, "run": {"start": {"data": {}}, "steps": []}, "refused": None, "errors": {},
            "start_fields": form_fields(form) if form else [], "values": {}, "actor": current_actor(),
            "labels": _labels(state), "waits": [], "said": None, "effects": [], "clock": None}


@bp.get("/designer/<key>/try")
def try_page(key: str) -> tuple[str, int]:
    """A test run's first page: the start form."""
    designer.require_designer(current_actor())
    state = _draft(key)
    return render_page("designer/try.html", state=state, key=key, **first_context(state))


@bp.post("/designer/<key>/try")
def try_run(key: str) -> tuple[str, int]:
    """One more thing done in the test run (start it, act on a task, move the clock), and the run again."""
    actor = current_actor()
    designer.require_designer(actor)
    state = _draft(key)
    run = _run_of(request.form)
    errors: dict[str, list[str]] = {}
    doing = request.form.get("do", "start")
    if doing == "start":
        form = _start_form(state)
        parsed = parse_posted(form, request.form) if form else None
        run = {"start": {"data": parsed.data if parsed else {}}, "steps": []}
        errors = parsed.errors if parsed else {}
    elif doing == "act":
        node = request.form.get("node", "")
        parsed = parse_posted(_form_of(request.form.get("form")), request.form) if _form_of(
            request.form.get("form")) else None
        step = {"node": node, "outcome": request.form.get("outcome") or None,
                "data": parsed.data if parsed else {}, "by": request.form.get("by", "").strip() or None}
        errors = parsed.errors if parsed else {}
        run["steps"].append({k: v for k, v in step.items() if v is not None})
    elif doing == "advance":
        run["steps"].append({"advance": request.form.get("advance", "").strip()})
    return _answer(key, state, run, errors)


def _answer(key: str, state: editor.EditorState, run: dict[str, Any], errors: dict[str, list[str]],
            said: str | None = None) -> tuple[str, int]:
    rt, actor = runtime(), current_actor()
    result, refused = None, None
    if not errors:
        try:
            result = simulation.simulate(rt, actor, {"definition": state.body, **run})
        except (InvalidRequest, DefinitionError) as exc:
            refused = {"message": message_of(exc), "errors": field_errors(exc) or {}}
            if run["steps"]:
                run = {**run, "steps": run["steps"][:-1]}  # the refused step is not kept
                result = simulation.simulate(rt, actor, {"definition": state.body, **run})
    form = _start_form(state)
    context = {"state": state, "key": key, "result": result, "run": run, "refused": refused, "errors": errors,
               "start_fields": form_fields(form) if form else [], "values": run["start"].get("data") or {},
               "actor": actor, "labels": _labels(state), "waits": _waits(result), "said": said,
               "effects": [{**e, "whom": _whom(e), "at": _when(e.get("at")), "due": _when(e.get("due"))}
                           for e in (result or {}).get("effects", [])],
               "clock": _when((result or {}).get("clock"))}
    if request.headers.get("HX-Request"):
        return render_template("designer/try_result.html", **context), 200
    return render_page("designer/try.html", 422 if errors or refused else 200, **context)


def _when(iso: Any) -> str | None:
    """A moment of the test run's clock as people read it."""
    if not isinstance(iso, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.strftime("%a %-d %b %Y, %H:%M UTC")


def _whom(effect: Mapping[str, Any]) -> str:
    """Whom a task would wait for, in words."""
    if effect.get("assignee"):
        return str(effect["assignee"])
    named = [*effect.get("candidateUsers", []), *(f"group {g}" for g in effect.get("candidateGroups", []))]
    return ", ".join(named) or "nobody"


def _labels(state: editor.EditorState) -> dict[str, str]:
    return {n["id"]: label_of(n) for n in state.body.get("nodes", []) if isinstance(n, Mapping) and "id" in n}


def _waits(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The tasks the run waits at, each with its outcomes and form, to act on next."""
    if not result:
        return []
    tasks = {e["node"]: e for e in result.get("effects", []) if e.get("kind") == "task"}
    found = []
    for node in result.get("waiting_at", []):
        task = tasks.get(node)
        if task is None:
            continue
        form = _form_of(task.get("form"))
        found.append({"node": node, "task": task, "fields": form_fields(form) if form else [],
                      "form": task.get("form") or "", "outcomes": task.get("outcomes") or ["complete"]})
    return found


@bp.post("/designer/<key>/try/scenario")
def save_scenario(key: str) -> Response | tuple[str, int]:
    """Keep the run as a scenario: it runs again whenever a draft of the process is published."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    state = _draft(key)
    run = _run_of(request.form)
    name = request.form.get("name", "").strip()

    def keep() -> Any:
        result = simulation.simulate(rt, actor, {"definition": state.body, **run})
        return scenarios.save(rt, actor, key, name, run, scenarios.expectation_of(result))

    said = f"Scenario “{name}” saved: it runs again at every publish."
    if request.headers.get("HX-Request"):
        try:
            keep()
        except (InvalidRequest, DefinitionError) as exc:
            return _answer(key, state, run, {}, said=f"Not saved: {message_of(exc)}")
        return _answer(key, state, run, {}, said=said)
    return act_and_say(keep, said, f"/designer/{key}/try", refused="Not saved",
                       answered=(*ANSWERED, DefinitionError))
