"""Flask's signed-cookie sessions, paid for only by requests that carry a session cookie."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    """Flask builds the cookie signer for every request, cookie or not (see docs/service.md for its cost).

    API calls carry no session cookie, so they get a fresh empty session
    straight away; a request with the cookie is read exactly as Flask would.
    A session written during the request is saved by Flask as usual.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)
