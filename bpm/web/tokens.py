"""A person's API tokens: create one (shown once), list them, revoke one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, redirect, request

from bpm.auth import current_actor, runtime
from bpm.errors import InvalidRequest, NotFound
from bpm.runtime import accounts
from bpm.runtime.policy import SCOPES
from bpm.web.pages import render_page

bp = Blueprint("tokens", __name__)
TOKEN_LIFETIMES = {"7": 7, "30": 30, "90": 90, "365": 365, "never": None}


@bp.get("/tokens")
def tokens() -> Any:
    """The person's API tokens: create one (shown once), revoke one."""
    return _tokens_page()


@bp.post("/tokens")
def create_token() -> Any:
    actor, form = current_actor(), request.form
    days = TOKEN_LIFETIMES.get(form.get("expires", "30"), 30)
    try:
        issued = accounts.create_token(runtime(), actor, actor.username, form.get("name", ""),
                                       form.getlist("scopes"), dt.timedelta(days=days) if days else None)
    except InvalidRequest as exc:
        return _tokens_page(errors=exc.errors, values=form, status=422)
    return _tokens_page(issued=issued, status=201)


@bp.post("/tokens/<token_id>/revoke")
def revoke_token(token_id: str) -> Any:
    try:
        accounts.revoke_token(runtime(), current_actor(), token_id)
    except NotFound:
        return _tokens_page(errors={"_form": ["no such token"]}, status=404)
    return redirect("/tokens", 303)


def _tokens_page(issued: accounts.IssuedToken | None = None, errors: dict[str, list[str]] | None = None,
                 values: Any = None, status: int = 200) -> tuple[str, int]:
    rt, actor = runtime(), current_actor()
    return render_page("tokens.html", status, tokens=accounts.list_tokens(rt, actor), issued=issued,
                       errors=errors or {}, values=values or {}, scopes=SCOPES, lifetimes=list(TOKEN_LIFETIMES),
                       now=rt.now())
