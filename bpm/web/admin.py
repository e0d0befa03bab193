"""The admins' page: instances in error or failed, jobs that keep failing, tasks nobody can act on, and what to do.

Auditors see it read-only; the buttons are those the policy allows the
reader (retry, cancel, repair, reassign are the admins'). Each action is the
runtime's, as the API's is, and lands in the instance's history.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import Forbidden, InvalidRequest
from bpm.notify import deliver
from bpm.runtime import definitions, instances, jobs, moves, operations, tasks
from bpm.runtime.paging import digits
from bpm.runtime.policy import Action, require
from bpm.store.vocabulary import InstanceStatus
from bpm.web.outcome import ANSWERED, act_and_say
from bpm.web.pages import asked_page, render_page

bp = Blueprint("admin", __name__)
LISTED = 50


@bp.get("/admin")
def overview() -> tuple[str, int]:
    """What needs an operator: failed and erroring instances, orphan tasks."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        found = operations.overview(uow, actor, LISTED)
    return render_page("admin.html", view=found)


@bp.get("/admin/instances")
def instance_search() -> tuple[str, int]:
    """Every instance, found by process, status, part of its reference, a person or a step; acted on in place."""
    rt, actor = runtime(), current_actor()
    asked = {name: (request.args.get(name) or "").strip() for name in operations.SEARCHABLE}
    errors: dict[str, list[str]] = {}
    page = asked_page()
    try:
        found = rt.read(actor, lambda uow: operations.find_instances(uow, actor, asked, page, LISTED))
    except InvalidRequest as exc:
        errors = exc.errors
        found = rt.read(actor, lambda uow: operations.find_instances(uow, actor, {**asked, "status": ""}, 1,
                                                                     LISTED))

    def url(page: int = 1) -> str:
        wanted = {k: v for k, v in {**asked, "page": str(page) if page > 1 else ""}.items() if v}
        return "/admin/instances" + ("?" + urlencode(wanted) if wanted else "")

    return render_page("admin_instances.html", 422 if errors else 200, search=found, asked=asked, errors=errors,
                       statuses=list(InstanceStatus), here=url(found.found.number), url=url)


def _back() -> str:
    """Where an action's answer goes: the list it was taken from (the admin pages only), else the admin page."""
    wanted = request.form.get("back") or ""
    return wanted if wanted.startswith("/admin") and not wanted.startswith("//") else "/admin"


def _done(act: Any, said: Any, back: str | None = None) -> Response:
    """An admin action, said on the admin page; a refusal too (the page offers only what the policy allows)."""
    return act_and_say(act, said, back or _back(), answered=(*ANSWERED, Forbidden))


@bp.post("/admin/instances/<instance_id>/retry")
def retry(instance_id: str) -> Response:
    rt, actor = runtime(), current_actor()
    return _done(lambda: instances.retry_instance(rt, actor, instance_id), "Retried: it runs its step again.")


@bp.post("/admin/instances/<instance_id>/cancel")
def cancel(instance_id: str) -> Response:
    rt, actor = runtime(), current_actor()
    reason = (request.form.get("reason") or "").strip() or "cancelled by an admin"
    return _done(lambda: instances.cancel_instance(rt, actor, instance_id, reason=reason), "Cancelled.")


@bp.post("/admin/instances/<instance_id>/repair")
def repair(instance_id: str) -> Response:
    rt, actor = runtime(), current_actor()
    form = request.form
    version = int(form["version"]) if digits(form.get("version", "")) else None
    node = (form.get("node") or "").strip() or None
    return _done(lambda: instances.repair_instance(rt, actor, instance_id, form.get("reason", ""), version, node),
                 "Repaired: it runs again from there.")


@bp.post("/admin/incidents/<int:job_id>/retry")
def retry_incident(job_id: int) -> Response:
    rt, actor = runtime(), current_actor()
    return _done(lambda: jobs.retry_incident(rt, actor, job_id), "It will be tried again in a moment.")


@bp.post("/admin/dead-letters/<message_id>/resend")
def resend(message_id: str) -> Response:
    rt, actor = runtime(), current_actor()
    return _done(lambda: deliver.resend(rt, actor, message_id), "It will be delivered again in a moment.")


@bp.post("/admin/tasks/<task_id>/reassign")
def reassign(task_id: str) -> Response:
    rt, actor = runtime(), current_actor()
    to = (request.form.get("to") or "").strip()
    return _done(lambda: tasks.reassign_task(rt, actor, task_id, to, request.form.get("reason")),
                 f"Reassigned to {to}.")


def _move_request() -> tuple[str, int | None, int | None, dict[str, str], list[str]]:
    """The move the form describes: process, versions, and node mapping lines ``old = new`` (bad lines said)."""
    values = request.values
    key = (values.get("process") or "").strip()
    numbers = [int(values[n]) if digits(values.get(n, "")) else None for n in ("from", "to")]
    mapping, bad = moves.parse_mapping((values.get("mapping") or "").splitlines())
    return key, numbers[0], numbers[1], mapping, bad


@bp.get("/admin/move")
def move_page() -> Any:
    """Move running requests to another version: pick the versions, read the dry run, then confirm."""
    rt, actor = runtime(), current_actor()
    require(actor, Action.INSTANCE_MIGRATE)
    with rt.uow() as uow:
        processes = [d.key for d in definitions.list_definitions(uow, actor)]
    key, from_version, to_version, mapping, bad = _move_request()
    plan, errors = None, {}
    if bad:
        errors["mapping"] = [f"write each line as old = new, not {line!r}" for line in bad]
    elif key and from_version and to_version:
        try:
            plan = moves.move_instances(rt, actor, key, from_version, to_version, mapping, dry_run=True)
        except ANSWERED as exc:
            errors = getattr(exc, "errors", None) or {"process": [str(exc)]}
    return render_page("admin_move.html", 422 if errors else 200, processes=processes, key=key,
                       from_version=from_version, to_version=to_version, mapping=request.values.get("mapping", ""),
                       plan=plan, errors=errors)


@bp.post("/admin/move")
def move() -> Response:
    rt, actor = runtime(), current_actor()
    key, from_version, to_version, mapping, _ = _move_request()
    return _done(lambda: moves.move_instances(rt, actor, key, from_version or 0, to_version or 0, mapping,
                                              dry_run=False),
                 lambda plan: f"Moved {len(plan.moved)} to version {to_version}" + (
                     f"; {len(plan.refused)} could not move and stay where they are." if plan.refused else "."),
                 back="/admin/move")
