"""My requests: what a person started, where each one is, one request's own page, and withdrawing one that is
still running."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request
from markupsafe import Markup

from bpm.auth import current_actor, runtime
from bpm.errors import ConflictError, Forbidden, InvalidRequest, NotFound
from bpm.runtime import instances, tasks
from bpm.runtime.my_requests import listing
from bpm.runtime.request_view import comment_on_request, request_view
from bpm.web.diagram import RunState, caption, render_svg, steps_in_order
from bpm.web.form_fields import form_fields
from bpm.web.pages import asked_page, render_page

bp = Blueprint("requests", __name__)
PAGE_SIZE = 20


@bp.get("/requests")
def my_requests() -> tuple[str, int]:
    """What I started: status, the step it is at, whom it waits for and since when, and how it ended."""
    rt, actor = runtime(), current_actor()
    page = asked_page()
    listed = rt.read(actor, lambda uow: listing(rt, uow, actor, page, PAGE_SIZE))  # (a replica, if there is one)
    return render_page("requests.html", listed=listed, now=rt.now())


@bp.get("/requests/<instance_id>")
def request_page(instance_id: str) -> tuple[str, int]:
    """One request: its data as it stands, where it is and whom or what it waits for, comments, files, history."""
    return _request_page(instance_id)


def _request_page(instance_id: str, body: str = "", errors: dict[str, list[str]] | None = None,
                  status: int = 200) -> tuple[str, int]:
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        view = request_view(rt, uow, actor, instance_id)
    state = RunState.of(view.instance.snapshot, view.definition)
    labels = {n["id"]: (n.get("metadata") or {}).get("label") or n["id"] for n in view.definition.get("nodes", ())}
    return render_page("request.html", status, view=view, body=body, errors=errors or {}, labels=labels,
                       request_fields=form_fields(view.request_form) if view.request_form else [],
                       diagram=Markup(render_svg(view.definition, state, view.process_name)),
                       diagram_caption=caption(view.definition, state),
                       diagram_steps=steps_in_order(view.definition, state))


@bp.post("/requests/<instance_id>/comments")
def comment(instance_id: str) -> Any:
    """A comment on the request, on the step it waits at (whoever decides it reads it)."""
    body = request.form.get("body", "")
    try:
        comment_on_request(runtime(), current_actor(), instance_id, body)
    except ConflictError as exc:
        flash(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", "error")
        return redirect(f"/requests/{instance_id}", 303)
    except InvalidRequest as exc:
        return _request_page(instance_id, body, exc.errors, 422)
    flash("Comment added.", "success")
    return redirect(f"/requests/{instance_id}#comments-title", 303)


@bp.get("/requests/<instance_id>/withdraw")
def confirm_withdrawal(instance_id: str) -> tuple[str, int]:
    """Are you sure? A withdrawal cannot be undone, so it is asked, with room for a reason."""
    return _confirmation(instance_id)


def _confirmation(instance_id: str, reason: str = "", errors: dict[str, list[str]] | None = None,
                  status: int = 200) -> tuple[str, int]:
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        instance = instances.to_withdraw(rt, uow, actor, instance_id)
        waiting = tasks.open_tasks_of(uow, instance.id)
        process = rt.engines.for_instance(uow, instance).workflow.name or instance.definition_key
    return render_page("withdraw.html", status, instance=instance, process=process, waiting=waiting, reason=reason,
                       errors=errors or {}, longest=instances.MAX_WITHDRAW_REASON)


@bp.post("/requests/<instance_id>/cancel")
def cancel_request(instance_id: str) -> Any:
    """Withdraw my own running request, once confirmed (an unconfirmed post is asked first)."""
    if request.form.get("confirm") != "yes":
        return redirect(f"/requests/{instance_id}/withdraw", 303)
    rt, actor = runtime(), current_actor()
    reason = request.form.get("reason", "")
    try:
        instances.withdraw_request(rt, actor, instance_id, reason)
    except InvalidRequest as exc:
        return _confirmation(instance_id, reason, exc.errors, 422)
    except (ConflictError, Forbidden, NotFound) as exc:
        flash(f"Could not withdraw it: {exc}.", "error")
    else:
        flash("Your request was withdrawn.", "success")
    return redirect("/requests", 303)
