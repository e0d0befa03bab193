"""What a browser needs to be safe: CSRF tokens, security headers, and sessions begun and ended cleanly.

- Every state-changing request whose identity is a session cookie (and
  every sign-in form post, where there is none yet) must carry the session's
  CSRF token, as the form field ``csrf_token`` or the ``X-CSRF-Token``
  header (htmx sends it); a bearer token needs none (a browser never sends
  it by itself).
- Signing in clears the old session (and its CSRF token) and starts a new
  one: a session id planted before sign-in is worth nothing after it.
- Every response says: scripts, styles and frames only from here (no inline
  script), never inside another site's frame, no MIME sniffing; data
  responses are not cached.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, g, request, session

from bpm.auth import SESSION_KEY, came_with_session, runtime
from bpm.errors import Forbidden
from bpm.runtime.accounts import close_session, open_session

CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
FORM_POSTS_WITHOUT_SESSION = frozenset({"sign_in.login_post"})


def csrf_token() -> str:
    """This session's CSRF token (made on first use; forms and htmx send it back)."""
    token = session.get(CSRF_KEY)
    if not token:
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a change made with the session cookie (or a sign-in post) without this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    if not came_with_session() and request.endpoint not in FORM_POSTS_WITHOUT_SESSION:
        return
    sent = request.headers.get(CSRF_HEADER) or (request.form.get(CSRF_FIELD) if request.form else None)
    expected = session.get(CSRF_KEY)
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        g.bpm_csrf_refused = True
        raise Forbidden("the form has expired or did not come from this site (CSRF token missing or wrong); "
                        "reload the page and try again")


def begin_session(username: str, id_token: str | None = None) -> None:
    """Sign ``username`` in: a fresh session (new id, new CSRF token) replaces whatever the browser had."""
    session.clear()
    session[SESSION_KEY] = open_session(runtime(), username, id_token)
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    session.permanent = True


def end_session() -> str | None:
    """Sign out: the server-side session ends; returns its SSO ID token, if any."""
    raw = session.get(SESSION_KEY)
    session.clear()
    return close_session(runtime(), raw) if raw else None


SECURITY_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                    ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"))
HSTS = ("Strict-Transport-Security", "max-age=31536000")
NO_STORE = ("Cache-Control", "no-store")


def security_headers(response: Response) -> Response:
    """The headers every response carries, unless the view set its own.

    Looked up once, together: werkzeug's ``setdefault`` scans the header list
    for each name, and six of them cost a tenth of a bare request (issue 25).
    """
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    wanted = [*SECURITY_HEADERS, HSTS] if runtime().settings.secure_cookies else [*SECURITY_HEADERS]
    if request.endpoint != "static":
        wanted.append(NO_STORE)
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def register_browser_guards(app: Flask) -> None:
    """CSRF after identification; headers on every response; cookie flags from the settings."""
    settings = app.extensions["bpm"].settings
    import datetime as dt

    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.secure_cookies,
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_max_hours))
    app.before_request(check_csrf)
    app.after_request(security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
