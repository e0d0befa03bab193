"""The task lists: My tasks and Group tasks, filtered and sorted, saved views, and claiming several at once.

Each view reads the request, calls one runtime function, and renders; the
rules live in the runtime's policy. Every page works without JavaScript:
forms post, the server answers with a redirect back to where the person was
(list filters and page kept in the URL); with htmx, a filter or page change
swaps in the results alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, make_response, redirect, render_template, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import BpmError, InvalidRequest
from bpm.runtime import definitions, inbox, tasks, views
from bpm.runtime.inbox_rows import row_facts
from bpm.runtime.paging import Page
from bpm.store.uow import UnitOfWork
from bpm.web.pages import asked_page, back, open_task_count, render_page, urgency

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 20
VIEWS = {"mine": ("My tasks", "mine"), "group": ("Group tasks", "candidate")}


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


def _wants_fragment() -> bool:
    """An htmx filter or page change asks for the results alone; a history restore wants the whole page."""
    return (request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"
            and request.headers.get("HX-History-Restore-Request") != "true")


@bp.get("/inbox")
def task_list() -> Any:
    """My tasks (assigned to me) or Group tasks (offered to me or my groups), most urgent first, filtered."""
    rt, actor = runtime(), current_actor()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "mine"
    page, now = asked_page(), rt.now()
    said, taken = _filters(now)
    other = "group" if view == "mine" else "mine"

    def listed(uow: UnitOfWork) -> tuple[Any, ...]:
        rows, total = inbox.list_tasks(uow, actor, {"scope": VIEWS[view][1], **taken}, page, PAGE_SIZE)
        return (rows, total, row_facts(uow, rows, actor), inbox.count_tasks(uow, actor, {"scope": VIEWS[other][1],
                **taken}), definitions.list_definitions(uow, actor), views.list_of(uow, actor))

    rows, total, facts, other_total, processes, saved = rt.read(actor, listed)  # (a replica, if there is one)
    counts = {view: total, other: other_total}
    # unfiltered, the two tabs are the header's count (offered work is unassigned: they never overlap)
    open_tasks = None if said else total + other_total

    def url(**changes: Any) -> str:
        wanted = {k: v for k, v in {"view": view, **said, **changes}.items() if v and (k, v) != ("view", "mine")}
        return "/inbox?" + urlencode(wanted) if wanted else "/inbox"

    here = url(page=page if page > 1 else None)  # this list, said the one way: back links and the pushed URL

    fragment = _wants_fragment()
    context = dict(view=view, views=VIEWS, listed=Page(rows, total, page, PAGE_SIZE), counts=counts, said=said,
                   processes=processes, due_choices=DUE_CHOICES, priority_choices=PRIORITY_CHOICES,
                   sort_choices=SORT_CHOICES, now=now, urgency=urgency, here=here,
                   names={d.key: d.name for d in processes}, facts=facts, url=url, saved=saved,
                   query=here.partition("?")[2])
    if fragment:
        response = make_response(render_template("inbox_fragment.html", **context))
    else:
        response = make_response(render_page("inbox.html", open_tasks=open_tasks, **context))
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
        return redirect(back(), 303)
    flash(f"Saved the view “{saved.name}”.", "success")
    return redirect("/inbox?" + saved.query, 303)


@bp.post("/inbox/views/delete")
def delete_view() -> Response:
    rt, actor = runtime(), current_actor()
    views.delete(rt, actor, request.form.get("name", ""))
    flash("View deleted.", "success")
    return redirect(back(), 303)


@bp.get("/inbox/count")
def open_count() -> str:
    """The header's count of open tasks, as the fragment htmx swaps in every 30 s (nothing else on the page moves)."""
    with runtime().uow() as uow:
        return render_template("count.html", count=open_task_count(uow, current_actor()))


@bp.post("/inbox/claim")
def claim_selected() -> Response:
    """Claim several group tasks at once; each one someone else took first is said, the others are yours."""
    rt, actor = runtime(), current_actor()
    claimed, missed = 0, []
    for task_id in request.form.getlist("task")[:PAGE_SIZE]:
        try:
            tasks.claim_task(rt, actor, task_id)
            claimed += 1
        except BpmError as exc:  # taken by someone else, gone, or not for this person
            missed.append(str(exc))
    if claimed:
        flash(f"Claimed {claimed} task{'s' if claimed != 1 else ''}: they are in My tasks now.", "success")
    for reason in missed:
        flash(f"Not claimed: {reason}.", "error")
    if not claimed and not missed:
        flash("Tick the tasks to claim first.", "error")
    return redirect(back("/inbox?view=group"), 303)


