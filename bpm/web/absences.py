"""Out of office, as a page: record when you are away and who stands in; see whom you stand in for."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request

from bpm.auth import current_actor, runtime
from bpm.errors import InvalidRequest
from bpm.runtime import absences
from bpm.runtime.paging import Page
from bpm.runtime.policy import Action, allows
from bpm.web.pages import asked_page, render_page

bp = Blueprint("absence_pages", __name__)
PAGE_SIZE = 50


@bp.get("/absences")
def absences_page() -> Any:
    """Your absences and whom you stand in for (HR and admins: everyone's), and a form to record one."""
    return _page()


@bp.post("/absences")
def record() -> Any:
    rt, actor, form = runtime(), current_actor(), request.form
    body: dict[str, Any] = {"from": form.get("from", ""), "to": form.get("to", ""),
                            "substitute": form.get("substitute", "").strip(),
                            "processes": form.getlist("processes") or None,
                            "existingTasks": form.get("existing", "yes") != "no"}
    if form.get("person", "").strip():
        body["person"] = form["person"].strip()
    try:
        absence = absences.record_absence(rt, actor, body)
    except InvalidRequest as exc:
        return _page(errors=exc.errors, values=form, status=422)
    whose = "You are" if absence.person == actor.username else f"{absence.person} is"
    flash(f"{whose} away from {absences.spoken(absence.starts_on)} to {absences.spoken(absence.ends_on)}; "
          f"{absence.substitute} stands in.", "success")
    return redirect("/absences", 303)


@bp.post("/absences/<absence_id>/remove")
def remove(absence_id: str) -> Any:
    absences.remove_absence(runtime(), current_actor(), absence_id)
    flash("Absence removed: what was waiting is the person's own again (nothing had moved).", "success")
    return redirect("/absences", 303)


def _page(errors: dict[str, list[str]] | None = None, values: Any = None, status: int = 200) -> tuple[str, int]:
    rt, actor = runtime(), current_actor()
    page = asked_page()
    with rt.uow() as uow:
        found, total = absences.list_absences(rt, uow, actor, None, False, page, PAGE_SIZE)
        processes = uow.definitions.names()
    everyone = allows(actor, Action.ABSENCE_READ_ALL, absences.facts(rt, actor.username))
    changeable = {a.id for a in found if allows(actor, Action.ABSENCE_CHANGE, absences.facts(rt, a.person))}
    return render_page("absences.html", status, listed=Page(found, total, page, PAGE_SIZE), everyone=everyone,
                       changeable=changeable, processes=processes, names=dict(processes), errors=errors or {},
                       values=values or {}, today=rt.days.today(), stands_in=actor.stands_in,
                       may_record=allows(actor, Action.ABSENCE_CHANGE, absences.facts(rt, actor.username)))
