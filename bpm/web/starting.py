"""Starting a process: the catalogue of what this person may start, a process's start form, and the start."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request

from bpm.auth import current_actor, runtime
from bpm.errors import InvalidRequest
from bpm.http.errors import status_of
from bpm.runtime import definitions, drafts, instances
from bpm.web.drafts import keep_draft, restored
from bpm.web.form_fields import form_fields, parse_posted, shown_again, uploads_of
from bpm.web.pages import render_page

bp = Blueprint("starting", __name__)


@bp.get("/start")
def catalogue() -> str:
    """The processes this person may start."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        processes = definitions.startable(uow, actor)
    return render_page("start.html", processes=processes)


def _start_page(key: str, values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
                message: str | None = None, status: int = 200) -> Any:
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        found = instances.start_form(rt, uow, actor, key)
        draft = drafts.load(uow, actor, drafts.start_key(key))
    if values is None and draft is not None and found.form is not None:
        values = restored(found.form, draft)
    return render_page("start_form.html", status, start=found, fields=form_fields(found.form) if found.form else [],
                       values=values or {}, errors=errors or {}, message=message, draft=draft,
                       draft_key=drafts.start_key(key), actor=actor,
                       draft_saved=drafts.saved_when(draft, rt.now()) if draft else None)


@bp.get("/start/<key>")
def start_page(key: str) -> Any:
    """A process's start form."""
    return _start_page(key)


@bp.post("/start/<key>")
def start(key: str) -> Any:
    """Start the process with what the person filled in; on to My requests."""
    rt, actor = runtime(), current_actor()
    if request.form.get("action") == "draft":
        return keep_draft(drafts.start_key(key), f"/start/{key}")
    with rt.uow() as uow:
        found = instances.start_form(rt, uow, actor, key)
    parsed = parse_posted(found.form, request.form) if found.form else None
    data = parsed.data if parsed else {}
    if parsed and parsed.errors:
        return _start_page(key, shown_again(parsed, request.form), parsed.errors, status=422)
    business_key = (request.form.get("businessKey") or "").strip() or None
    try:
        instance, _ = instances.start_instance(rt, actor, key, data, business_key, uploads_of(
            found.form, request.files, rt.settings.max_attachment_bytes))
    except InvalidRequest as exc:
        return _start_page(key, data, exc.errors, status=status_of(exc))
    drafts.discard(rt, actor, drafts.start_key(key))
    flash(f"Started: {found.name}.", "success")
    return redirect(f"/requests#i-{instance.id}", 303)
