"""My requests: what a person started, where each one is, and withdrawing one that is still running."""

from __future__ import annotations

from flask import Blueprint, flash, redirect
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import ConflictError, Forbidden, NotFound
from bpm.runtime import instances
from bpm.runtime.my_requests import listing
from bpm.web.pages import asked_page, render_page

bp = Blueprint("requests", __name__)
PAGE_SIZE = 20


@bp.get("/requests")
def my_requests() -> tuple[str, int]:
    """What I started: status, the step it is at, whom it waits for and since when, and how it ended."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        listed = listing(rt, uow, actor, asked_page(), PAGE_SIZE)
    return render_page("requests.html", listed=listed, now=rt.now())


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
