"""A task's page: what is being decided, the form, one button per outcome, and what can be done with the task.

The buttons shown are the policy's (``TaskView.may``); a refused action
answers with the page again, the reason said, and the status the error
table gives it (``bpm.http.errors``), so a page and the API never disagree.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, request
from markupsafe import Markup

from bpm.auth import current_actor, runtime
from bpm.errors import BpmError, ConflictError, Forbidden, FormInvalid, InvalidRequest, PreconditionFailed
from bpm.http.errors import status_of
from bpm.runtime import drafts, tasks
from bpm.runtime.paging import digits
from bpm.web.diagram import RunState, caption, render_svg, steps_in_order
from bpm.web.drafts import keep_draft, restored
from bpm.web.form_fields import form_fields, parse_posted, shown_again, uploads_of
from bpm.web.pages import back, render_page, urgency

bp = Blueprint("task_page", __name__)
REFUSED = (ConflictError, PreconditionFailed, Forbidden)  # said on the page; anything else is an error page


def task_page_answer(task_id: str, values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
                     message: str | None = None, status: int = 200, confirm_delegate: str | None = None) -> Any:
    """The task's page, with what was posted and why it was not taken (values, field errors, message, status)."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        view = tasks.task_view(rt, uow, actor, task_id)
        draft = drafts.load(uow, actor, drafts.task_key(task_id))
    form = rt.forms.get(view.task.form_id, view.task.form_version) if view.task.form_id else None
    if values is None and draft is not None and form is not None:
        values = restored(form, draft)
    return render_page(
        "task.html", status, view=view, form=form, fields=form_fields(form) if form else [],
        request_fields=form_fields(view.request_form) if view.request_form else [],
        values=values if values is not None else view.prefill,
        errors=errors or {}, message=message, back=back(), history=view.history, now=rt.now(), urgency=urgency,
        draft=draft, draft_key=drafts.task_key(task_id), confirm_delegate=confirm_delegate,
        draft_saved=drafts.saved_when(draft, rt.now()) if draft else None,
        max_attachment=rt.settings.max_attachment_bytes,
        diagram=Markup(render_svg(view.definition, state := RunState.of(view.instance.snapshot, view.definition),
                                  view.process_name)),
        diagram_caption=caption(view.definition, state), diagram_steps=steps_in_order(view.definition, state),
        actor=actor,
    )


@bp.get("/tasks/<task_id>")
def task_page(task_id: str) -> Any:
    """What is being decided, the form and one button per outcome, comments, and the request's history."""
    return task_page_answer(task_id)


@bp.post("/tasks/<task_id>")
def submit_task(task_id: str) -> Any:
    """Complete the task with the outcome of the button pressed; back to the list where the person was."""
    rt, actor = runtime(), current_actor()
    if request.form.get("action") == "draft":
        return keep_draft(drafts.task_key(task_id), f"/tasks/{task_id}?" + urlencode({"back": back()}))
    outcome = request.form.get("outcome")
    with rt.uow() as uow:
        task, _ = tasks.read_task(rt, uow, actor, task_id)
    form = rt.forms.get(task.form_id, task.form_version) if task.form_id else None
    parsed = parse_posted(form, request.form) if form else None
    data = parsed.data if parsed else {}
    if parsed and parsed.errors:
        return task_page_answer(task_id, shown_again(parsed, request.form), parsed.errors, status=422)
    try:
        done, _, _ = tasks.complete_task(rt, actor, task_id, outcome, data, _revision(),
                                         uploads_of(form, request.files, rt.settings.max_attachment_bytes),
                                         behalf_reason=request.form.get("behalf_reason"))
    except InvalidRequest as exc:  # the form's errors are said at the fields; any other also above them
        message = None if isinstance(exc, FormInvalid) else str(exc)
        return task_page_answer(task_id, data, exc.errors, message=message, status=status_of(exc))
    except REFUSED as exc:
        return _refused(task_id, exc, data)
    drafts.discard(rt, actor, drafts.task_key(task_id))
    flash(f"Done: {done.title} — {outcome}.", "success")
    return redirect(back(), 303)


def _revision() -> int | None:
    raw = request.form.get("revision", "")
    return int(raw) if digits(raw) else None


def said_at_field(task_id: str, field: str, error: InvalidRequest, named: str) -> Any:
    """The task page again with a refused value's message at the page's ``field`` (the runtime calls it ``named``)."""
    return task_page_answer(task_id, errors={field: error.errors.get(named, [str(error)])}, status=status_of(error))


def _refused(task_id: str, error: BpmError, values: dict[str, Any] | None = None) -> Any:
    """The task page again, saying why the action was not done, with the error's own status."""
    return task_page_answer(task_id, values, message=f"{error}.", status=status_of(error))


def _task_action(task_id: str, act: Any, said: str) -> Any:
    try:
        act()
    except REFUSED as exc:
        return _refused(task_id, exc)
    flash(said, "success")
    return redirect(f"/tasks/{task_id}?" + urlencode({"back": back()}), 303)


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Any:
    rt, actor = runtime(), current_actor()
    return _task_action(task_id, lambda: tasks.claim_task(rt, actor, task_id, _revision()),
                        "The task is yours now; it has left your colleagues' group tasks.")


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str) -> Any:
    rt, actor = runtime(), current_actor()
    return _task_action(task_id, lambda: tasks.unclaim_task(rt, actor, task_id, _revision()),
                        "The task is back in the group's tasks.")


@bp.post("/tasks/<task_id>/delegate")
def delegate(task_id: str) -> Any:
    """Hand the task to someone else, after a confirmation (the policy says who may take it)."""
    rt, actor = runtime(), current_actor()
    to = (request.form.get("to") or "").strip()
    try:
        if request.form.get("confirm") != "yes":
            tasks.check_delegation(rt, actor, task_id, to)  # refused before the question, never after the yes
            return task_page_answer(task_id, confirm_delegate=to)
        tasks.delegate_task(rt, actor, task_id, to, _revision())
    except InvalidRequest as exc:
        return said_at_field(task_id, "delegate-to", exc, "to")
    except REFUSED as exc:
        return _refused(task_id, exc)
    flash(f"Handed to {to}; they act on your behalf.", "success")
    return redirect(back(), 303)


@bp.post("/tasks/<task_id>/comments")
def comment(task_id: str) -> Any:
    rt, actor = runtime(), current_actor()
    try:
        tasks.comment_on_task(rt, actor, task_id, request.form.get("body", ""))
    except InvalidRequest as exc:
        return said_at_field(task_id, "comment-body", exc, "body")
    return redirect(f"/tasks/{task_id}?" + urlencode({"back": back()}) + "#comments", 303)
