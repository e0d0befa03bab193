"""The web pages (Jinja, ``templates/``): sign-in and sign-out, the home page, and personal API tokens.

Views are thin: they read the form, call the runtime (accounts), and render.
The inbox, start and admin pages arrive with their issue and build on the
same base template and header.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, render_template, request
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.auth.browser import begin_session, end_session
from bpm.errors import InvalidRequest, NotFound, TooManyAttempts, Unauthorized
from bpm.runtime import accounts
from bpm.runtime.policy import SCOPES

bp = Blueprint("web", __name__)
TOKEN_LIFETIMES = {"7": 7, "30": 30, "90": 90, "365": 365, "never": None}


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never another host: no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@bp.get("/login")
def login() -> Any:
    """The sign-in form (and the company SSO button when one is configured)."""
    return render_template("login.html", next=safe_next(request.args.get("next")), error=None, username="")


@bp.post("/login")
def login_post() -> Any:
    """Check the password, start a fresh session, go where the person was headed."""
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    target = safe_next(request.form.get("next"))
    try:
        actor = accounts.sign_in_with_password(runtime(), username, password, request.remote_addr)
    except TooManyAttempts as exc:
        return render_template("login.html", next=target, error=str(exc), username=username), 429, {
            "Retry-After": str(exc.retry_after)}
    except Unauthorized as exc:
        return render_template("login.html", next=target, error=str(exc).capitalize() + ".", username=username), 401
    begin_session(actor.username)
    return redirect(target, 303)


@bp.post("/logout")
def logout() -> Response:
    """End the session here (and at the company SSO, when the session came from it)."""
    end_session()
    return redirect("/login", 303)


@bp.get("/")
def home() -> str:
    """Who is signed in, and where to go from here."""
    return render_template("home.html")


@bp.get("/tokens")
def tokens() -> str:
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
        return _tokens_page(errors=exc.errors, values=form), 422
    return _tokens_page(issued=issued), 201


@bp.post("/tokens/<token_id>/revoke")
def revoke_token(token_id: str) -> Any:
    try:
        accounts.revoke_token(runtime(), current_actor(), token_id)
    except NotFound:
        return _tokens_page(errors={"_form": ["no such token"]}), 404
    return redirect("/tokens", 303)


def _tokens_page(issued: accounts.IssuedToken | None = None, errors: dict[str, list[str]] | None = None,
                 values: Any = None) -> str:
    rt, actor = runtime(), current_actor()
    return render_template("tokens.html", tokens=accounts.list_tokens(rt, actor), issued=issued, errors=errors or {},
                           values=values or {}, scopes=SCOPES, lifetimes=list(TOKEN_LIFETIMES), now=rt.now())


def init_web(app: Flask) -> None:
    """Register the pages."""
    app.register_blueprint(bp)

    @app.context_processor
    def people() -> dict[str, Any]:
        from flask import g

        return {"actor": g.get("bpm_actor")}
