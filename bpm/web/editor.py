"""The process editor's edits: the canvas's draft saves (JSON, with the revision), and the outline's and the
properties panel's forms (plain posts that work without a script; htmx swaps them in place). Each calls one
function of ``runtime.draft_edits``; designers and admins only (others: 404)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from flask import Blueprint, jsonify, render_template, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.engine.errors import DefinitionError
from bpm.errors import InvalidRequest, PreconditionFailed
from bpm.http.errors import error_body, field_errors, message_of, status_of
from bpm.runtime import designer, draft_edits, editor, node_properties
from bpm.runtime.read_checks import readable_at
from bpm.web.outcome import ANSWERED, act_and_say
from bpm.web.pages import render_page

bp = Blueprint("editor", __name__)
SAID_HERE = (*ANSWERED, DefinitionError)


def _revision() -> int | None:
    raw = request.form.get("revision", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidRequest("not a revision", {"revision": ["reload the page"]})
    return int(raw)


def _back(key: str, node_id: str | None = None) -> str:
    return f"/designer/{key}" + (f"#step-{node_id}" if node_id else "#outline-title")


@bp.get("/designer/<key>/draft.json")
def draft_json(key: str) -> Response:
    """The draft as the canvas reads it (after a conflict, or a change made in the panel or the outline)."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        found = editor.state(rt, uow, actor, key)
    answer = jsonify(found.to_json())
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.post("/designer/<key>/draft")
def save_canvas(key: str) -> tuple[Response, int]:
    """The canvas's save: the whole draft as drawn, on top of the revision it was drawn on (412 if it moved)."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    sent: Any = request.get_json(silent=True)
    if not isinstance(sent, dict):
        raise InvalidRequest("not a draft", {"definition": ["send {revision, definition}"]})
    revision = sent.get("revision")
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        raise InvalidRequest("not a revision", {"revision": ["a whole number, or null before the first save"]})
    try:
        draft_edits.save_body(rt, actor, key, revision, sent.get("definition"))
    except (DefinitionError, PreconditionFailed, InvalidRequest) as refused:
        return jsonify(_refusal(refused)), status_of(refused)
    with rt.uow() as uow:
        found = editor.state(rt, uow, actor, key)
    return jsonify({**found.to_json(), "fragments": _fragments(found)}), 200


def _refusal(refused: Exception) -> dict[str, Any]:
    return error_body(status_of(refused), message_of(refused), field_errors(refused))  # type: ignore[arg-type]


def _fragments(found: editor.EditorState) -> dict[str, str]:
    """The parts of the page a canvas save changes, drawn by the same templates as the page."""
    rt = runtime()
    return {"outline": render_template("designer/outline.html", key=found.key, state=found,
                                       outline=designer.outline(found.body, rt.node_types)),
            "problems": render_template("designer/problems.html", state=found)}


@bp.get("/designer/<key>/steps/<node_id>")
def step(key: str, node_id: str) -> tuple[str, int]:
    """One step's properties: a page of its own, or (htmx) the panel beside the canvas."""
    context = _panel_context(key, node_id)
    if request.headers.get("HX-Request"):
        return render_template("designer/step_panel.html", **context), 200
    return render_page("designer/step.html", **context)


def _panel_context(key: str, node_id: str, errors: dict[str, list[str]] | None = None,
                   said: dict[str, Any] | None = None) -> dict[str, Any]:
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        found = editor.state(rt, uow, actor, key)
    node = _node(found, node_id)
    view = node_properties.panel(node, rt.node_types.get(node.get("type")))
    if errors:
        view = replace(view, errors=errors)
    return {"key": key, "state": found, "panel": view, "readable": _readable(found, node_id), "said": said,
            "choices": _choices(rt), "problems": [p for p in found.problems if p.get("node") == node_id
                                                  and p["severity"] in ("error", "warning")]}


def _node(found: editor.EditorState, node_id: str) -> dict[str, Any]:
    from bpm.errors import NotFound

    for node in found.body.get("nodes", []):
        if isinstance(node, dict) and node.get("id") == node_id:
            return node
    raise NotFound(f"no step {node_id!r} in this process")


def _readable(found: editor.EditorState, node_id: str) -> list[str]:
    from bpm.engine.definition import parse_definition

    rt = runtime()
    loaded = parse_definition(found.body, [])
    return readable_at(loaded, rt.node_types, rt.forms, node_id) if loaded is not None else []


def _choices(rt: Any) -> dict[str, list[str]]:
    """What the pickers offer whole: forms, calendars and processes by name. People and groups are many, so
    their fields ask the directory as letters are typed (bpm/web/pickers.py)."""
    with rt.uow() as uow:
        processes = [row.key for row in uow.definitions.newest_of_each()]
    return {"form": rt.forms.ids(), "calendar": sorted(rt.calendars.calendars), "process": sorted(processes)}


@bp.post("/designer/<key>/steps/<node_id>")
def save_step(key: str, node_id: str) -> Response | tuple[str, int]:
    """The properties panel's save: the step's name and data, on top of the draft revision it showed.

    Through htmx the panel comes back in place (with the new revision, or the errors at their fields) and the
    canvas is told to take the new draft; a plain post goes back to the process page.
    """
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)

    def save() -> Any:
        with rt.uow() as uow:
            found = editor.state(rt, uow, actor, key)
        node = _node(found, node_id)
        view = node_properties.panel(node, rt.node_types.get(node.get("type")))
        data, errors = node_properties.read_form(view.fields, request.form)
        if errors:
            raise InvalidRequest("some values could not be read", errors)
        return draft_edits.edit(rt, actor, key, _revision(), lambda body: draft_edits.update_node(
            body, node_id, request.form.get("label"), data))

    if not request.headers.get("HX-Request"):
        return act_and_say(save, "Step saved.", _back(key, node_id), refused="Not saved", answered=SAID_HERE)
    try:
        save()
    except SAID_HERE as refused:
        errors = field_errors(refused) or {}
        return render_template("designer/step_panel.html", **_panel_context(
            key, node_id, errors, said={"refused": True, **_refusal(refused)})), 200
    answer = Response(render_template("designer/step_panel.html", **_panel_context(
        key, node_id, said={"refused": False, "message": "Step saved."})))
    answer.headers["HX-Trigger"] = "draftSaved"
    return answer


@bp.post("/designer/<key>/steps/<node_id>/check")
def check_step(key: str, node_id: str) -> str:
    """The step's problems as its panel says now, before it is saved (htmx, as the designer types): the draft's
    checks run on the draft with these values; nothing is saved."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    with rt.uow() as uow:
        found = editor.state(rt, uow, actor, key)
    node = _node(found, node_id)
    view = node_properties.panel(node, rt.node_types.get(node.get("type")))
    data, errors = node_properties.read_form(view.fields, request.form)
    said: list[dict[str, Any]] = [{"severity": "error", "message": m} for ms in errors.values() for m in ms]
    if not errors:
        body = draft_edits.update_node(copy.deepcopy(dict(found.body)), node_id, request.form.get("label") or None,
                                       data)
        with rt.uow() as uow:
            problems = editor.problems_of(rt, uow, body)
        said = [p for p in problems if p.get("node") == node_id and p["severity"] in ("error", "warning")]
    return render_template("designer/step_checks.html", problems=said)


@bp.post("/designer/<key>/steps")
def add_step(key: str) -> Response:
    """The outline's "add a step": of a type, named, after a step's exit (or on its own)."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    after, _, handle = (request.form.get("after") or "").partition("::")  # a step and one of its exits

    def add() -> Any:
        kind, label = request.form.get("type", ""), request.form.get("label", "")
        return draft_edits.edit(rt, actor, key, _revision(), lambda body: draft_edits.add_node(
            body, rt.node_types, kind, label, after or None, handle or None)[0])

    return _answer(add, "Step added.", _back(key))


@bp.post("/designer/<key>/steps/<node_id>/remove")
def remove_step(key: str, node_id: str) -> Response:
    """The outline's "remove": the step and its connections."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    return _answer(lambda: draft_edits.edit(rt, actor, key, _revision(),
                                            lambda body: draft_edits.remove_node(body, node_id)),
                   "Step removed.", _back(key))


@bp.post("/designer/<key>/steps/<node_id>/exits")
def connect_exit(key: str, node_id: str) -> Response:
    """The outline's "leads to": where one exit of a step goes (or nowhere)."""
    rt, actor = runtime(), current_actor()
    designer.require_designer(actor)
    handle = request.form.get("handle") or None
    target = request.form.get("target", "").strip() or None
    return _answer(lambda: draft_edits.edit(rt, actor, key, _revision(), lambda body: draft_edits.connect(
                       body, node_id, handle, draft_edits.step_named(body, target) if target else None)),
                   "Connection saved.", _back(key, node_id))


def _answer(act: Any, said: str, back: str) -> Response:
    """Do it and go back to the process page, saying how it went."""
    return act_and_say(act, said, back, refused="Not saved", answered=SAID_HERE)
