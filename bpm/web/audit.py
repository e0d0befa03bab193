"""The auditors' workspace: search the instances, read one's whole story, hold it from retention, export.

Read-only but for the two things auditors do: save their searches, and set or lift a legal hold. Every
rule is the runtime's (``audit_search``, ``timeline``, ``retention``, the policy), as the API's is.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import InvalidRequest
from bpm.runtime import audit_search, retention, timeline, views
from bpm.runtime.paging import Page, page_number
from bpm.runtime.policy import Action, allows
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import InstanceStatus
from bpm.web.diagram import RunState, caption, render_svg, steps_in_order
from bpm.web.outcome import act_and_say
from bpm.web.pages import render_page

bp = Blueprint("audit_pages", __name__)
PAGE_SIZE = 25
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@bp.app_template_filter("recorded")
def recorded(value: Any) -> str:
    """A recorded value as a person reads it: lists as lists, times as times, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(recorded(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else "—"
    if isinstance(value, str) and STAMP.match(value):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.strftime("%-d %b %Y, %H:%M:%S") + " UTC"
    return str(value)
LABELS = {"process": "Process", "version": "Version", "status": "Status", "businessKey": "Business key",
          "person": "Person", "role": "Who", "node": "Step", "from": "Started from", "to": "Started to",
          "outcome": "Outcome"}


def _labels(fields: list[audit_search.FormField]) -> dict[str, str]:
    """What the error summary calls each field: its label on the page."""
    found = dict(LABELS)
    for f in fields:
        found.update({f"data.{f.name}": f.title, f"data.{f.name}.min": f"{f.title} at least",
                      f"data.{f.name}.max": f"{f.title} at most"})
    return found


@bp.get("/audit")
def search_page() -> Any:
    """The search form, its results (paged, counted), saved searches and the exports of what is found."""
    rt, actor = runtime(), current_actor()
    args = {k: v for k, v in request.args.items() if k != "page"}
    page = page_number(request.args.get("page"))
    errors: dict[str, list[str]] = {}
    try:
        query = audit_search.parse(args)
    except InvalidRequest as bad:
        query, errors = None, bad.errors

    def searched(uow: UnitOfWork) -> tuple[Any, ...]:
        return (views.list_of(uow, actor, views.AUDIT),  # auditors' (and admins') only: the page is theirs
                *(audit_search.search(rt, uow, actor, query, page, PAGE_SIZE) if query else ([], 0)),
                audit_search.form_fields(rt, uow, args["process"]) if args.get("process") else [],
                audit_search.processes(uow))

    saved, found, total, fields, processes = rt.read(actor, searched)  # (a replica, if there is one)
    said = query.query_string() if query else ""

    def url(**changes: Any) -> str:
        merged = {**args, **{k: v for k, v in changes.items() if v is not None}}
        return "/audit?" + urlencode([(k, v) for k, v in merged.items() if v not in ("", None)])

    return render_page("audit.html", 422 if errors else 200, args=args, errors=errors,
                       listed=Page(found, total, page, PAGE_SIZE), fields=fields, processes=processes,
                       statuses=[s.value for s in InstanceStatus], roles=audit_search.ROLES, saved=saved,
                       said=said, url=url, searched=bool(query and not query.empty), labels=_labels(fields),
                       more_open=any(args.get(k) for k in ("version", "businessKey", "node", "outcome")),
                       data_open=any(k.startswith(audit_search.DATA_PREFIX) for k in args))


@bp.post("/audit/searches")
def save_search() -> Response:
    rt, actor = runtime(), current_actor()
    query = request.form.get("query", "")
    try:
        saved = views.save(rt, actor, request.form.get("name", ""), query, views.AUDIT)
    except InvalidRequest as bad:
        flash("Not saved: " + "; ".join(m for ms in bad.errors.values() for m in ms), "error")
        return redirect(f"/audit?{query}", 303)
    flash(f"Saved as “{saved.name}”.", "success")
    return redirect(f"/audit?{saved.query}", 303)


@bp.post("/audit/searches/delete")
def delete_search() -> Response:
    rt, actor = runtime(), current_actor()
    views.delete(rt, actor, request.form.get("name", ""), views.AUDIT)
    flash("Saved search deleted.", "success")
    return redirect("/audit", 303)


@bp.get("/audit/instances/<instance_id>")
def instance_page(instance_id: str) -> Any:
    """One instance: summary, the path on the diagram, the steps' times, every event, and a diff."""
    rt, actor = runtime(), current_actor()
    errors: dict[str, list[str]] = {}
    with rt.uow() as uow:
        story = timeline.timeline(uow, actor, instance_id)
    try:
        compared = timeline.compare(story, request.args.get("from"), request.args.get("to"))
    except InvalidRequest as bad:
        compared, errors = timeline.Comparison(), bad.errors
    definition = story.definition
    state = RunState.of(story.instance.snapshot, definition)
    if story.instance.purged_at is not None:
        state = RunState()  # its path went with its data; the events still name the steps
    return render_page(
        "audit_instance.html", 422 if errors else 200, story=story, i=story.instance, events=story.events,
        steps=story.steps, versions=story.versions, left=compared.left, right=compared.right,
        changes=compared.changes, errors=errors,
        duration=timeline.duration, may_hold=allows(actor, Action.LEGAL_HOLD),
        diagram=Markup(render_svg(definition, state, definition.get("name") or story.instance.definition_key)),
        diagram_caption=caption(definition, state), diagram_steps=steps_in_order(definition, state))


def _act(instance_id: str, act: Any, done: str, refused: str) -> Response:
    """A hold action, said on the instance's page (a refusal by the policy stays a 403)."""
    return act_and_say(act, done, f"/audit/instances/{instance_id}", refused)


@bp.post("/audit/instances/<instance_id>/hold")
def set_hold(instance_id: str) -> Response:
    rt, actor, reason = runtime(), current_actor(), request.form.get("reason", "")
    return _act(instance_id, lambda: retention.set_hold(rt, actor, instance_id, reason),
                "Under legal hold: retention keeps all of it until the hold is lifted.", "Not held")


@bp.post("/audit/instances/<instance_id>/hold/lift")
def lift_hold(instance_id: str) -> Response:
    rt, actor, reason = runtime(), current_actor(), request.form.get("reason", "")
    return _act(instance_id, lambda: retention.lift_hold(rt, actor, instance_id, reason), "Legal hold lifted.",
                "Not lifted")
