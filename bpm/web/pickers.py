"""Type-ahead pickers: the options a person or group field offers as letters are typed (htmx fills a datalist).

Without JavaScript the field is a plain text field and the server checks the name it is sent; with it, each
pause in typing asks here for the matching people or groups (``bpm.runtime.directory``: names, display names
and groups only).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from bpm.auth import current_actor, runtime
from bpm.runtime import directory

bp = Blueprint("pickers", __name__)
OPTIONS = 20


def _typed() -> tuple[str, str]:
    """What the field holds — htmx sends the field under its own name, which ``field`` says — as the part
    before the name being typed and that name: in a list ("bob, da", ``list=1``) the last one is looked up,
    and each option is the whole list with it completed."""
    text = (request.args.get(request.args.get("field", "q"), "") or request.args.get("q", ""))[:1000]
    if request.args.get("list"):
        before, comma, last = text.rpartition(",")
        return (before + comma + " " if comma else ""), last.strip()[:100]
    return "", text.strip()[:100]


@bp.get("/pickers/people")
def people_options() -> Any:
    """``<option>``s of the active people whose name or display name holds what was typed."""
    before, typed = _typed()
    with runtime().uow() as uow:
        found, _ = directory.people(uow, current_actor(), typed, 1, OPTIONS)
    return render_template("picker_options.html", options=[(before + p.username, p.display_name) for p in found])


@bp.get("/pickers/groups")
def group_options() -> Any:
    """``<option>``s of the groups whose name or display name holds what was typed."""
    before, typed = _typed()
    with runtime().uow() as uow:
        found, _ = directory.groups(uow, current_actor(), typed, 1, OPTIONS)
    return render_template("picker_options.html", options=[(before + g.name, g.display_name) for g in found])
