"""The bell's pages: my notices (open one, mark read), and how I want each kind delivered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.errors import InvalidRequest
from bpm.runtime import bell
from bpm.runtime.notices import KINDS, MODES
from bpm.runtime.paging import Page, digits, page_number
from bpm.web.pages import render_page

bp = Blueprint("notices", __name__)
PAGE_SIZE = 30


def _page(page: int = 1, chosen: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
          status: int = 200) -> Any:
    """The notices page: a page of notices, and the settings as saved (or as just posted, with their errors)."""
    rt, actor = runtime(), current_actor()
    with rt.uow() as uow:
        rows, total = bell.notices(uow, actor, page, PAGE_SIZE)
        modes = chosen if chosen is not None else bell.settings_of(uow, actor)
    return render_page("notifications.html", status, listed=Page(rows, total, page, PAGE_SIZE), modes=modes,
                       kinds=KINDS, mode_names=MODES, errors=errors or {})


@bp.get("/notifications")
def notices_page() -> Any:
    return _page(page_number(request.args.get("page")))


@bp.get("/notifications/count")
def unread_fragment() -> str:
    """The bell's number, as the fragment htmx swaps in every 30 s."""
    with runtime().uow() as uow:
        return render_template("bell.html", unread=bell.unread_count(uow, current_actor()))


@bp.get("/notifications/<int:notice_id>/open")
def follow_notice(notice_id: int) -> Response:
    """Follow a notice to what it is about (an old link, a bookmark): a GET changes nothing."""
    return _to(bell.link_of(runtime(), current_actor(), notice_id))


@bp.post("/notifications/<int:notice_id>/open")
def open_notice(notice_id: int) -> Response:
    """Follow a notice to what it is about, marking it read on the way (the notices page's button)."""
    return _to(bell.opened(runtime(), current_actor(), notice_id))


def _to(link: str | None) -> Response:
    path = urlsplit(link or "").path or "/notifications"  # our own page: the host in the link may be the proxy's
    return redirect(path + (f"#{urlsplit(link).fragment}" if link and urlsplit(link).fragment else ""), 303)


@bp.post("/notifications/read")
def mark_read() -> Response:
    rt, actor = runtime(), current_actor()
    ids = [int(i) for i in request.form.getlist("notice") if digits(i)]
    bell.mark_read(rt, actor, None if request.form.get("all") == "yes" else ids)
    flash("Marked as read.", "success")
    return redirect("/notifications", 303)


@bp.post("/notifications/settings")
def save_settings() -> Any:
    rt, actor = runtime(), current_actor()
    chosen = {kind: request.form.get(f"mode-{kind}", "now") for kind in KINDS}
    try:
        bell.save_settings(rt, actor, chosen)
    except InvalidRequest as exc:
        return _page(chosen=chosen, errors=exc.errors, status=422)
    flash("Saved: notices will come as you chose.", "success")
    return redirect("/notifications#settings", 303)
