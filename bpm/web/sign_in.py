"""Signing in and out: the password form, the company's SSO (authlib), and the way back to where one was going."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint, redirect, request, session
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from bpm.auth import runtime
from bpm.auth.browser import begin_session, end_session
from bpm.auth.oidc import fetch_sign_in, sso_client
from bpm.errors import TooManyAttempts, Unauthorized
from bpm.runtime import accounts
from bpm.web.pages import render_page, safe_next

logger = logging.getLogger(__name__)
DEVICE_COOKIE = "bpm_device"
"""A browser that signed in to an account before: it gets through that account's throttle (a stranger guessing
at the account does not lock its owner out)."""
DEVICE_DAYS = 180

bp = Blueprint("sign_in", __name__)


@bp.get("/login")
def login() -> Any:
    """The sign-in form (and the company SSO button when one is configured)."""
    return _login_page(safe_next(request.args.get("next")))


def _login_page(target: str, error: str | None = None, username: str = "", status: int = 200,
                headers: dict[str, str] | None = None) -> Any:
    sso = runtime().settings.oidc_label if sso_client() is not None else None
    return (*render_page("login.html", status, next=target, error=error, username=username, sso=sso), headers or {})


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
    rt = runtime()
    known = accounts.known_device(rt, request.cookies.get(DEVICE_COOKIE), username)
    try:
        actor = accounts.sign_in_with_password(rt, username, password, request.remote_addr, known_device=known)
    except TooManyAttempts as exc:
        return _login_page(target, str(exc).capitalize() + ".", username, 429, {"Retry-After": str(exc.retry_after)})
    except Unauthorized as exc:
        return _login_page(target, str(exc).capitalize() + ".", username, 401)
    begin_session(actor.username)
    answer = redirect(target, 303)
    answer.set_cookie(DEVICE_COOKIE, accounts.device_cookie(rt, actor.username), max_age=DEVICE_DAYS * 86_400,
                      httponly=True, samesite="Lax", secure=rt.settings.secure_cookies, path="/login")
    return answer


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
