"""The web pages (Jinja, ``templates/``): sign-in and sign-out, the home page, and personal API tokens.

Views are thin: they read the form, call the runtime (accounts), and render.
The inbox, start and admin pages arrive with their issue and build on the
same base template and header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint, Flask, redirect, render_template, request, session
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from bpm.auth import current_actor, runtime
from bpm.auth.browser import begin_session, end_session
from bpm.auth.oidc import fetch_sign_in, init_oidc, sso_client
from bpm.errors import InvalidRequest, NotFound, TooManyAttempts, Unauthorized
from bpm.nodes.votes import rejects
from bpm.runtime import accounts
from bpm.runtime.policy import SCOPES

logger = logging.getLogger(__name__)
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
    return _login_page(safe_next(request.args.get("next")))


def _login_page(target: str, error: str | None = None, username: str = "", status: int = 200,
                headers: dict[str, str] | None = None) -> Any:
    sso = runtime().settings.oidc_label if sso_client() is not None else None
    return render_template("login.html", next=target, error=error, username=username, sso=sso), status, headers or {}


@bp.get("/login/sso")
def oidc_login() -> Any:
    """Off to the company's identity provider (authorization code with PKCE, state and nonce)."""
    client = sso_client()
    if client is None:
        return redirect("/login")
    session["sso_next"] = safe_next(request.args.get("next"))
    return client.authorize_redirect(_public_url("/login/sso/callback"))


@bp.get("/login/sso/callback")
def oidc_callback() -> Any:
    """Back from the provider: check everything authlib checks, then sign the person in."""
    client, target = sso_client(), safe_next(session.pop("sso_next", None))
    if client is None:
        return redirect("/login")
    if request.args.get("error"):
        return _login_page(target, f"The identity provider refused the sign-in: {request.args['error'][:100]}.",
                           status=401)
    try:
        token = fetch_sign_in(client, runtime().settings)
        claims = token.get("userinfo")
        if not claims:
            raise ValueError("no ID token")
        actor = accounts.sign_in_with_sso(runtime(), str(claims["iss"]), claims)
    except Unauthorized as exc:
        return _login_page(target, f"Sign-in through SSO failed: {exc}.", status=401)
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        logger.warning("SSO sign-in refused: %s: %s", type(exc).__name__, exc)
        return _login_page(target, "Sign-in through SSO failed: the answer from the identity provider did not "
                                   "check out. Please try again.", status=401)
    begin_session(actor.username, token.get("id_token"))
    return redirect(target, 303)


def _public_url(path: str) -> str:
    base = runtime().settings.public_url.rstrip("/")
    return f"{base}{path}" if base else request.host_url.rstrip("/") + path


@bp.post("/login")
def login_post() -> Any:
    """Check the password, start a fresh session, go where the person was headed."""
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    target = safe_next(request.form.get("next"))
    try:
        actor = accounts.sign_in_with_password(runtime(), username, password, request.remote_addr)
    except TooManyAttempts as exc:
        return _login_page(target, str(exc).capitalize() + ".", username, 429, {"Retry-After": str(exc.retry_after)})
    except Unauthorized as exc:
        return _login_page(target, str(exc).capitalize() + ".", username, 401)
    begin_session(actor.username)
    return redirect(target, 303)


@bp.post("/logout")
def logout() -> Response:
    """End the session here (and at the company SSO, when the session came from it)."""
    id_token = end_session()
    client = sso_client()
    if id_token and client is not None:
        endpoint = client.load_server_metadata().get("end_session_endpoint")
        if endpoint:
            query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": _public_url("/login"),
                               "client_id": runtime().settings.oidc_client_id})
            return redirect(f"{endpoint}?{query}", 303)
    return redirect("/login", 303)


@bp.get("/")
def home() -> Response:
    """The inbox is what people come for."""
    return redirect("/inbox", 302)


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


@cache
def _fingerprint(path: str) -> str:
    from bpm.app import STATIC

    file = STATIC / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "missing"


def asset(path: str) -> str:
    """A static file's URL with its content's fingerprint: cached for good, refetched when it changes."""
    return f"/static/{path}?v={_fingerprint(path)}"


ERROR_TITLES = {400: "That request was not understood", 401: "Please sign in", 403: "Not allowed",
                404: "Not found", 405: "Not allowed here", 409: "Someone got there first",
                413: "Too large", 422: "Please check what you entered", 429: "Too many attempts"}


def _error_page(error: Any) -> tuple[str, int]:
    """An error as a page people can act on: what happened, in words, and a way back."""
    code = error.code or 500
    if code >= 500:
        return render_template("error.html", code=code, title="Something went wrong on our side",
                               detail="Please try again in a moment; if it keeps happening, tell the operator."), code
    detail = error.description if code != 404 else "It does not exist, or it is not yours to see."
    if code == 413:
        from flask import request

        detail = (f"What you sent is larger than the limit of {filesize(request.max_content_length or 0)}: "
                  "go back and choose a smaller file. Nothing was saved.")
    return render_template("error.html", code=code, title=ERROR_TITLES.get(code, "That did not work"),
                           detail=detail), code


def filesize(size: int) -> str:
    """A size in bytes as people read it: 812 bytes, 14 KB, 2.5 MB."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    for unit in ("KB", "MB", "GB"):
        size /= 1024  # type: ignore[assignment]
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}".replace(".0 ", " ") if size < 10 else f"{size:.0f} {unit}"
    raise AssertionError("unreachable")


def open_task_count() -> int:
    """The header's count: tasks assigned to me or offered to me now (one narrow count query)."""
    from flask import g

    from bpm.runtime import inbox

    actor = g.get("bpm_actor")
    if actor is None:
        return 0
    if g.get("bpm_open_tasks") is not None:  # the inbox page counted them already
        return int(g.bpm_open_tasks)
    with runtime().uow() as uow:
        return inbox.list_tasks(uow, actor, {}, 1, 1)[1]


def _tokens_page(issued: accounts.IssuedToken | None = None, errors: dict[str, list[str]] | None = None,
                 values: Any = None) -> str:
    rt, actor = runtime(), current_actor()
    return render_template("tokens.html", tokens=accounts.list_tokens(rt, actor), issued=issued, errors=errors or {},
                           values=values or {}, scopes=SCOPES, lifetimes=list(TOKEN_LIFETIMES), now=rt.now())


def init_web(app: Flask) -> None:
    """Register the pages (and the SSO client, when configured)."""
    from bpm.web import form_fields
    from bpm.web.admin import bp as admin_pages
    from bpm.web.audit import bp as audit_pages
    from bpm.web.inbox import bp as inbox_pages
    from bpm.web.notices import bp as notice_pages

    init_oidc(app, app.extensions["bpm"].settings)
    app.register_blueprint(bp)
    app.register_blueprint(inbox_pages)
    app.register_blueprint(admin_pages)
    app.register_blueprint(notice_pages)
    app.register_blueprint(audit_pages)
    app.jinja_env.globals.update(value_at=form_fields.value_at, display=form_fields.display,
                                 row_count=form_fields.row_count, label_of=form_fields.label_of, asset=asset,
                                 in_form_order=form_fields.in_form_order,
                                 rejects=rejects)

    app.jinja_env.filters["filesize"] = filesize
    app.extensions["bpm_error_page"] = _error_page

    @app.context_processor
    def people() -> dict[str, Any]:
        from flask import g

        from bpm.web.notices import unread_notice_count

        return {"actor": g.get("bpm_actor"), "open_tasks": open_task_count, "unread_notices": unread_notice_count}
