"""Drafts: what a person typed into a task or start form, kept when they leave and back when they return."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.runtime import drafts
from bpm.web.form_fields import parse_posted, shown_again

bp = Blueprint("drafts", __name__)


def restored(form: Any, draft: Any) -> dict[str, Any]:
    """A draft's text back into the form's values (what cannot be read yet is shown as typed)."""
    posted = MultiDict([(name, value) for name, values in draft.fields.items() for value in values])
    return shown_again(parse_posted(form, posted), posted)


def keep_draft(key: str, back_to: str) -> Response:
    """The "Save draft" button of a task or start form: keep what was typed, and show the form again."""
    drafts.save(runtime(), current_actor(), key, drafts.fields_of(request.form))
    flash("Draft saved: it will be here when you come back.", "success")
    return redirect(back_to, 303)


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
