"""Who is calling: a bearer token, a browser session, or (development only) the ``X-BPM-User`` header.

``identify`` runs before every request. Nothing but sign-in, health and
static assets answers without an identity: an API call gets 401 with
``WWW-Authenticate: Bearer``, a page the sign-in form (then back to it).

``X-BPM-User`` names the user only with ``BPM_DEV_IDENTITY=1``; otherwise it
is ignored (it is no credential), and a request with nothing else is a 401.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app, g, redirect, request, session
from werkzeug.wrappers import Response

from bpm.errors import Unauthorized
from bpm.http.errors import is_api_request
from bpm.runtime import Actor, Runtime
from bpm.runtime.accounts import actor_for_session, actor_for_sso_subject, actor_for_token

DEV_HEADER = "X-BPM-User"
SESSION_KEY = "sid"
PUBLIC_ENDPOINTS = frozenset({"static", "health.Health", "sign_in.login", "sign_in.login_post", "sign_in.oidc_login",
                              "sign_in.oidc_callback"})


def runtime() -> Runtime:
    """The runtime wired by create_app."""
    return current_app.extensions["bpm"]


def current_actor() -> Actor:
    """The acting user of this request (``identify`` found them); Unauthorized if there is none."""
    actor = g.get("bpm_actor")
    if actor is None:
        raise Unauthorized(_no_identity_message())
    return actor


def came_with_session() -> bool:
    """True when this request's identity is its session cookie (so a change needs a CSRF token)."""
    return bool(g.get("bpm_via_session"))


def identify() -> Response | None:
    """Find the caller; refuse a request without one unless it is public. Runs before every view."""
    g.bpm_actor, g.bpm_via_session = None, False
    public = request.endpoint in PUBLIC_ENDPOINTS
    rt = runtime()
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            if public:
                return None
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        try:
            g.bpm_actor = _bearer(rt, credentials.strip())
        except Unauthorized:
            if public:
                return None
            raise
        return None
    raw = session.get(SESSION_KEY) if "HTTP_COOKIE" in request.environ else None
    if raw:
        g.bpm_actor = actor_for_session(rt, raw)
        g.bpm_via_session = g.bpm_actor is not None
        if g.bpm_actor is None:
            session.pop(SESSION_KEY, None)  # ended or timed out: forget it
    dev_user = request.headers.get(DEV_HEADER)
    if g.bpm_actor is None and rt.settings.dev_identity and dev_user:
        if "\x00" in dev_user or len(dev_user) > 100:
            raise Unauthorized(f"{DEV_HEADER} must name a user")
        g.bpm_actor = rt.actor(dev_user)
    if g.bpm_actor is None and not public:
        return _sign_in_first()
    return None


def _bearer(rt: Runtime, text: str) -> Actor:
    """Our own API token, or (with SSO configured) the provider's JWT access token."""
    if text.startswith("bpm_") or not rt.settings.oidc_issuer:
        return actor_for_token(rt, text)
    from bpm.auth.oidc import verify_access_token

    claims = verify_access_token(rt.settings, text)
    return actor_for_sso_subject(rt, str(claims["iss"]), claims)


def _sign_in_first() -> Response:
    """A browser opening a page goes to the sign-in form; everything else is told 401."""
    wants_page = request.method == "GET" and request.accept_mimetypes.accept_html and (
        not is_api_request() or request.path == "/api/docs")
    if wants_page:
        return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")
    raise Unauthorized(_no_identity_message())


def _no_identity_message() -> str:
    if request.headers.get(DEV_HEADER) and not runtime().settings.dev_identity:
        return f"sign in: {DEV_HEADER} is accepted only with BPM_DEV_IDENTITY=1 (development)"
    return "sign in first: send 'Authorization: Bearer <token>' or sign in at /login"
