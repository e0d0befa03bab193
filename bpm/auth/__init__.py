"""Who is calling. For now the development identity only; OIDC, local accounts and tokens come next."""

from __future__ import annotations

from flask import current_app, g, request

from bpm.errors import Unauthorized
from bpm.runtime import Actor, Runtime

DEV_HEADER = "X-BPM-User"


def runtime() -> Runtime:
    """The runtime wired by create_app."""
    return current_app.extensions["bpm"]


def current_actor() -> Actor:
    """The acting user, loaded once per request; Unauthorized if there is none.

    The ``X-BPM-User`` header is trusted only when ``BPM_DEV_IDENTITY=1``
    (the default of `bpm run`), never in a production configuration.
    """
    actor = g.get("bpm_actor")
    if actor is None:
        rt = runtime()
        if not rt.settings.dev_identity:
            raise Unauthorized("sign-in is not configured; set BPM_DEV_IDENTITY=1 for development")
        actor = rt.actor(request.headers.get(DEV_HEADER))
        g.bpm_actor = actor
    return actor
