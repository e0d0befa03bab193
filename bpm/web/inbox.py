"""The employee pages: My tasks, Group tasks, a task's page, the start catalogue and start forms, My requests.

Each view reads the request, calls one runtime function, and renders; the
rules (who may see, claim, complete, start) live in the runtime's policy,
which also says which buttons a task page shows (``TaskView.may``). Every
page works without JavaScript: forms post, the server answers with the page
again (errors next to the fields, values kept) or a redirect back to where
the person came from (list filters and page kept in the URL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, g, make_response, redirect, render_template, request
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import ConflictError, Forbidden, FormInvalid, InvalidRequest, NotFound, PreconditionFailed
from bpm.runtime import attachments, definitions, drafts, inbox, instances, tasks, views
from bpm.runtime.paging import digits, page_number
from bpm.web.diagram import RunState, caption, render_svg
from bpm.web.form_fields import form_fields, parse_posted, shown_again

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 20
VIEWS = {"mine": ("My tasks", "mine"), "group": ("Group tasks", "candidate")}
DUE_SOON = dt.timedelta(days=1)


def _page_number() -> int:
    return page_number(request.args.get("page"))


def _back(default: str = "/inbox") -> str:
    from bpm.web import safe_next

    return safe_next(request.values.get("back") or default)


def urgency(task: Any, now: dt.datetime) -> str | None:
    """"overdue" or "due-soon" for a task's due date (None: neither, or no date)."""
    if task.due_at is None:
        return None
    if task.due_at < now:
        return "overdue"
    return "due-soon" if task.due_at - now < DUE_SOON else None


DUE_CHOICES = {"overdue": ("Overdue", dt.timedelta(0)), "today": ("Due within a day", dt.timedelta(days=1)),
               "week": ("Due within a week", dt.timedelta(days=7))}
PRIORITY_CHOICES = {"high": ("High priority", 70), "raised": ("Above normal", 51)}
SORT_CHOICES = {"urgency": "Most urgent", "due": "Due date", "newest": "Newest", "oldest": "Oldest"}


def _filters(now: dt.datetime) -> tuple[dict[str, str], dict[str, Any]]:
    """The list's filters as the URL says them, and as the runtime's inbox takes them (bad values ignored)."""
    choices = {"due": DUE_CHOICES, "priority": PRIORITY_CHOICES, "sort": SORT_CHOICES}
    said = {"process": request.args.get("process", ""), "q": request.args.get("q", "").strip()[:200],
            **{name: request.args.get(name, "") for name in choices}}
    said = {k: v for k, v in said.items() if v and (k not in choices or v in choices[k]) and
            (k, v) != ("sort", "urgency")}
    taken: dict[str, Any] = {"definition_key": said.get("process"), "text": said.get("q") or None,
                             "sort": said.get("sort")}
    if "due" in said:
        taken["due_before"] = now + DUE_CHOICES[said["due"]][1]
    if "priority" in said:
        taken["min_priority"] = PRIORITY_CHOICES[said["priority"]][1]
    return said, taken


def _wants_fragment() -> bool:
    """An htmx filter or page change asks for the results alone; a history restore wants the whole page."""
    return (request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"
            and request.headers.get("HX-History-Restore-Request") != "true")


@bp.get("/inbox")
def task_list() -> Any:
    """My tasks (assigned to me) or Group tasks (offered to me or my groups), most urgent first, filtered."""
    rt, actor = runtime(), current_actor()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "mine"
    page, now = _page_number(), rt.now()
    said, taken = _filters(now)
    with rt.uow() as uow:
        rows, total = inbox.list_tasks(uow, actor, {"scope": VIEWS[view][1], **taken}, page, PAGE_SIZE)
        other = "group" if view == "mine" else "mine"
        _, other_total = inbox.list_tasks(uow, actor, {"scope": VIEWS[other][1], **taken}, 1, 1)
        processes = definitions.list_definitions(uow, actor)
        saved = views.list_of(uow, actor)
    counts = {view: total, other: other_total}
    if not said:  # unfiltered, the two tabs are the header's count (offered work is unassigned: they never overlap)
        g.bpm_open_tasks = total + other_total

    def url(**changes: Any) -> str:
        wanted = {k: v for k, v in {"view": view, **said, **changes}.items() if v and (k, v) != ("view", "mine")}
        return "/inbox?" + urlencode(wanted) if wanted else "/inbox"

    here = url(page=page if page > 1 else None)  # this list, said the one way: back links and the pushed URL

    fragment = _wants_fragment()
    page_html = render_template(
        "inbox_fragment.html" if fragment else "inbox.html", view=view, views=VIEWS, tasks=rows, total=total,
        counts=counts, page=page, pages=max(1, -(-total // PAGE_SIZE)), said=said, processes=processes,
        due_choices=DUE_CHOICES, priority_choices=PRIORITY_CHOICES, sort_choices=SORT_CHOICES, now=now,
        urgency=urgency, here=here, names={d.key: d.name for d in processes}, url=url, saved=saved,
        query=here.partition("?")[2])
    response = make_response(page_html)
    response.vary.add("HX-Request")  # the same URL answers with a page or a fragment: caches must tell them apart
    if fragment:
        response.headers["HX-Push-Url"] = here  # the address bar shows the filters without the empty fields
    return response


@bp.post("/inbox/views")
def save_view() -> Any:
    """Name the current filters; they appear in the person's list of views."""
    rt, actor = runtime(), current_actor()
    try:
        saved = views.save(rt, actor, request.form.get("name", ""), request.form.get("query", ""))
    except InvalidRequest as exc:
        flash(f"Not saved: {'; '.join(m for ms in exc.errors.values() for m in ms)}.", "error")
        return redirect(_back(), 303)
    flash(f"Saved the view “{saved.name}”.", "success")
    return redirect("/inbox?" + saved.query, 303)


@bp.post("/inbox/views/delete")
def delete_view() -> Response:
    rt, actor = runtime(), current_actor()
    views.delete(rt, actor, request.form.get("name", ""))
    flash("View deleted.", "success")
    return redirect(_back(), 303)


@bp.get("/inbox/count")
def open_count() -> str:
    """The header's count of open tasks, as the fragment htmx swaps in every 30 s (nothing else on the page moves)."""
    from bpm.web import open_task_count

    return render_template("count.html", count=open_task_count())


@bp.post("/inbox/claim")
def claim_selected() -> Response:
    """Claim several group tasks at once; each one someone else took first is said, the others are yours."""
    rt, actor = runtime(), current_actor()
    claimed, missed = 0, []
    for task_id in request.form.getlist("task")[:PAGE_SIZE]:
        try:
            tasks.claim_task(rt, actor, task_id)
            claimed += 1
        except (ConflictError, Forbidden, NotFound) as exc:
            missed.append(str(exc))
    if claimed:
        flash(f"Claimed {claimed} task{'s' if claimed != 1 else ''}: they are in My tasks now.", "success")
    for reason in missed:
        flash(f"Not claimed: {reason}.", "error")
    if not claimed and not missed:
        flash("Tick the tasks to claim first.", "error")
    return redirect(_back("/inbox?view=group"), 303)


def _restored(form: Any, draft: Any) -> dict[str, Any]:
    """A draft's text back into the form's values (what cannot be read yet is shown as typed)."""
    posted = MultiDict([(name, value) for name, values in draft.fields.items() for value in values])
    return shown_again(parse_posted(form, posted), posted)


def _keep_draft(key: str, back_to: str) -> Response:
    """The "Save draft" button of a task or start form: keep what was typed, and show the form again."""
    drafts.save(runtime(), current_actor(), key, drafts.fields_of(request.form))
    flash("Draft saved: it will be here when you come back.", "success")
    return redirect(back_to, 303)


def _task_page(task_id: str, values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
               message: str | None = None, status: int = 200, confirm_delegate: str | None = None) -> Any:
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        view = tasks.task_view(rt, uow, actor, task_id)
        draft = drafts.load(uow, actor, drafts.task_key(task_id))
    form = rt.forms.get(view.task.form_id) if view.task.form_id else None
    if values is None and draft is not None and form is not None:
        values = _restored(form, draft)
    return render_template(
        "task.html", view=view, form=form, fields=form_fields(form) if form else [],
        request_fields=form_fields(view.request_form) if view.request_form else [],
        values=values if values is not None else view.prefill,
        errors=errors or {}, message=message, back=_back(), history=view.history, now=rt.now(), urgency=urgency,
        draft=draft, draft_key=drafts.task_key(task_id), confirm_delegate=confirm_delegate,
        draft_saved=drafts.saved_when(draft, rt.now()) if draft else None,
        max_attachment=rt.settings.max_attachment_bytes,
        diagram=Markup(render_svg(view.definition, state := RunState.of(view.instance.snapshot, view.definition),
                                  view.process_name)),
        diagram_caption=caption(view.definition, state),
    ), status


@bp.get("/tasks/<task_id>")
def task_page(task_id: str) -> Any:
    """What is being decided, the form and one button per outcome, comments, and the request's history."""
    return _task_page(task_id)


@bp.post("/tasks/<task_id>")
def submit_task(task_id: str) -> Any:
    """Complete the task with the outcome of the button pressed; back to the list where the person was."""
    rt, actor = runtime(), current_actor()
    if request.form.get("action") == "draft":
        return _keep_draft(drafts.task_key(task_id), f"/tasks/{task_id}?" + urlencode({"back": _back()}))
    outcome = request.form.get("outcome")
    with rt.uow() as uow:
        task, _ = tasks.read_task(rt, uow, actor, task_id)
    form = rt.forms.get(task.form_id) if task.form_id else None
    parsed = parse_posted(form, request.form) if form else None
    data = parsed.data if parsed else {}
    if parsed and parsed.errors:
        return _task_page(task_id, shown_again(parsed, request.form), parsed.errors, status=422)
    try:
        done, _, _ = tasks.complete_task(rt, actor, task_id, outcome, data, _revision())
    except FormInvalid as exc:
        return _task_page(task_id, data, exc.errors, status=422)
    except InvalidRequest as exc:
        return _task_page(task_id, data, exc.errors, message=str(exc), status=422)
    except (ConflictError, PreconditionFailed) as exc:
        return _task_page(task_id, data, message=f"{exc}.", status=409)
    except Forbidden as exc:
        return _task_page(task_id, data, message=f"{exc}.", status=403)
    drafts.discard(rt, actor, drafts.task_key(task_id))
    flash(f"Done: {done.title} — {outcome}.", "success")
    return redirect(_back(), 303)


def _revision() -> int | None:
    raw = request.form.get("revision", "")
    return int(raw) if digits(raw) else None


def _task_action(task_id: str, act: Any, said: str) -> Any:
    try:
        act()
    except (ConflictError, PreconditionFailed, Forbidden) as exc:
        return _task_page(task_id, message=f"{exc}.", status=409 if not isinstance(exc, Forbidden) else 403)
    flash(said, "success")
    return redirect(f"/tasks/{task_id}?" + urlencode({"back": _back()}), 303)


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
    if request.form.get("confirm") != "yes":
        return _task_page(task_id, confirm_delegate=to)
    try:
        tasks.delegate_task(rt, actor, task_id, to, _revision())
    except InvalidRequest as exc:
        return _task_page(task_id, errors={"delegate-to": exc.errors.get("to", [str(exc)])}, status=422)
    except (ConflictError, PreconditionFailed, Forbidden) as exc:
        return _task_page(task_id, message=f"{exc}.", status=409 if not isinstance(exc, Forbidden) else 403)
    flash(f"Handed to {to}; they act on your behalf.", "success")
    return redirect(_back(), 303)


@bp.post("/tasks/<task_id>/comments")
def comment(task_id: str) -> Any:
    rt, actor = runtime(), current_actor()
    try:
        tasks.comment_on_task(rt, actor, task_id, request.form.get("body", ""))
    except InvalidRequest as exc:
        return _task_page(task_id, errors={"comment-body": exc.errors.get("body", [str(exc)])}, status=422)
    return redirect(f"/tasks/{task_id}?" + urlencode({"back": _back()}) + "#comments", 303)


@bp.post("/tasks/<task_id>/attachments")
def add_attachment(task_id: str) -> Any:
    """Add a file to the request; a refused file is said at the field, and nothing is kept."""
    rt, actor = runtime(), current_actor()
    upload = request.files.get("file")
    try:
        added = attachments.add(rt, actor, task_id, upload.filename or "" if upload else "",
                                upload.read() if upload else b"")
    except InvalidRequest as exc:
        return _task_page(task_id, errors={"file": exc.errors.get("file", [str(exc)])}, status=422)
    except Forbidden as exc:
        return _task_page(task_id, message=f"{exc}.", status=403)
    flash(f"Added {added.filename}.", "success")
    return redirect(f"/tasks/{task_id}?" + urlencode({"back": _back()}) + "#files", 303)


@bp.get("/attachments/<attachment_id>")
def download_attachment(attachment_id: str) -> Response:
    """A file of a request the person may read, as a download."""
    from bpm.api.attachments import send_attachment

    return send_attachment(attachments.download(runtime(), current_actor(), attachment_id))


@bp.post("/attachments/<attachment_id>/remove")
def remove_attachment(attachment_id: str) -> Response:
    """Take back a file one added by mistake (while its task is open)."""
    rt, actor = runtime(), current_actor()
    try:
        removed = attachments.remove(rt, actor, attachment_id)
    except (Forbidden, ConflictError) as exc:
        flash(f"Not removed: {exc}.", "error")
        return redirect(_back(), 303)
    flash(f"Removed {removed.filename}.", "success")
    return redirect(f"/tasks/{removed.task_id}?" + urlencode({"back": _back()}) + "#files", 303)


@bp.get("/start")
def catalogue() -> str:
    """The processes this person may start."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        processes = definitions.startable(uow, actor)
    return render_template("start.html", processes=processes)  # after the unit: the header reads on its own


def _start_page(key: str, values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
                message: str | None = None, status: int = 200) -> Any:
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        found = instances.start_form(rt, uow, actor, key)
        draft = drafts.load(uow, actor, drafts.start_key(key))
    if values is None and draft is not None and found.form is not None:
        values = _restored(found.form, draft)
    return render_template("start_form.html", start=found, fields=form_fields(found.form) if found.form else [],
                           values=values or {}, errors=errors or {}, message=message, draft=draft,
                           draft_key=drafts.start_key(key),
                           draft_saved=drafts.saved_when(draft, rt.now()) if draft else None), status


@bp.get("/start/<key>")
def start_page(key: str) -> Any:
    """A process's start form."""
    return _start_page(key)


@bp.post("/start/<key>")
def start(key: str) -> Any:
    """Start the process with what the person filled in; on to My requests."""
    rt, actor = runtime(), current_actor()
    if request.form.get("action") == "draft":
        return _keep_draft(drafts.start_key(key), f"/start/{key}")
    with rt.uow() as uow:
        found = instances.start_form(rt, uow, actor, key)
    parsed = parse_posted(found.form, request.form) if found.form else None
    data = parsed.data if parsed else {}
    if parsed and parsed.errors:
        return _start_page(key, shown_again(parsed, request.form), parsed.errors, status=422)
    business_key = (request.form.get("businessKey") or "").strip() or None
    try:
        instance, _ = instances.start_instance(rt, actor, key, data, business_key)
    except InvalidRequest as exc:
        errors = {("businessKey" if name == "businessKey" else name): messages
                  for name, messages in exc.errors.items()}
        return _start_page(key, data, errors, status=422)
    drafts.discard(rt, actor, drafts.start_key(key))
    flash(f"Started: {found.name}.", "success")
    return redirect(f"/requests#i-{instance.id}", 303)


@bp.post("/drafts/save")
def save_draft() -> Any:
    """Keep what a person typed when they leave the page (the browser sends it as it goes: drafts.js)."""
    rt, actor = runtime(), current_actor()
    drafts.save(rt, actor, request.form.get("draft_key", ""), drafts.fields_of(
        request.form, frozenset({"csrf_token", "back", "revision", "outcome", "action", "draft_key"})))
    return "", 204


@bp.post("/drafts/discard")
def discard_draft() -> Response:
    """Throw a draft away; back to the empty form."""
    rt, actor = runtime(), current_actor()
    key = request.form.get("draft_key", "")
    drafts.discard(rt, actor, key)
    flash("Draft discarded.", "success")
    kind, _, target = key.partition(":")
    return redirect(f"/tasks/{target}" if kind == "task" else f"/start/{target}" if kind == "start" else "/inbox", 303)


@bp.get("/requests")
def my_requests() -> str:
    """What I started: status, the step it is at, whom it waits for and since when, and how it ended."""
    rt, actor = runtime(), current_actor()
    page = _page_number()
    with rt.uow() as uow:
        rows, total = instances.list_instances(uow, actor, {"started_by": actor.username}, page, PAGE_SIZE)
        waiting = {row.id: tasks.open_tasks_of(uow, row.id) for row in rows}
        children = {row.id: instances.running_children(uow, row.id) for row in rows  # a call step waits for it
                    if row.status == "paused" and not waiting[row.id]}
        withdraw = {row.id for row in rows if instances.withdrawable(rt, uow, actor, row)}
        names = {d.key: d.name for d in definitions.list_definitions(uow, actor)}
    return render_template("requests.html", rows=rows, total=total, waiting=waiting, names=names, page=page,
                           withdraw=withdraw, children=children,
                           pages=max(1, -(-total // PAGE_SIZE)), now=rt.now())


@bp.post("/requests/<instance_id>/cancel")
def cancel_request(instance_id: str) -> Response:
    """Withdraw my own running request."""
    rt, actor = runtime(), current_actor()
    try:
        instances.cancel_instance(rt, actor, instance_id, reason="withdrawn by the requester")
    except (ConflictError, Forbidden, NotFound) as exc:
        flash(f"Could not withdraw it: {exc}.", "error")
    else:
        flash("Your request was withdrawn.", "success")
    return redirect("/requests", 303)
