"""create_app: the only place that wires settings, database, runtime, API and pages together."""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request

from bpm.api.json import OrjsonProvider
from bpm.auth import runtime
from bpm.auth.sessions import CookieSessions
from bpm.config import Settings
from bpm.engine import Clock, SystemClock
from bpm.http.whole_bodies import WholeBodies
from bpm.resources import shipped
from bpm.runtime import Runtime
from bpm.store.db import READING
from bpm.web import STATIC

TEMPLATES = shipped("templates")


def _reads_only_when_getting() -> None:
    """A GET reads: on SQLite its transactions take no write lock (``bpm.store.db.reading``)."""
    if request.method in ("GET", "HEAD"):
        g.bpm_reading = READING.set(True)


def _remember_writes(response: Response) -> Response:
    """After a person's change went through, where it left the primary's WAL (only with a replica): their heavy
    reads, through any server process, keep off a replica that has not replayed it (bpm.store.replica)."""
    rt = runtime()
    if rt.replica is not None and request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400 \
            and g.get("bpm_actor") is not None:
        rt.note_write(g.bpm_actor.username)
    return response


def _done_reading(_error: BaseException | None) -> None:
    token = g.pop("bpm_reading", None)
    if token is not None:
        READING.reset(token)


def create_app(config: Settings | Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """Build the Flask app; ``config`` is Settings, or overrides of the BPM_* environment."""
    settings = config if isinstance(config, Settings) else Settings.from_env(**dict(config or {}))
    logging.basicConfig(level=settings.log_level)
    app = Flask("bpm", static_folder=str(STATIC), static_url_path="/static", template_folder=str(TEMPLATES))
    if settings.trust_proxy:
        from bpm.http.proxies import TrustedProxies

        app.wsgi_app = TrustedProxies(app.wsgi_app, settings.proxy_networks)  # type: ignore[method-assign]
    app.json = OrjsonProvider(app)
    app.session_interface = CookieSessions()
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      BPM_MAX_JSON_DEPTH=settings.max_json_depth)
    runtime = Runtime.build(settings, clock or SystemClock())
    app.extensions["bpm"] = runtime

    from bpm.api import init_api
    from bpm.auth import identify
    from bpm.auth.browser import register_browser_guards
    from bpm.web import init_web

    app.before_request(identify)  # first: every other guard and view knows who is asking (its writes lock)
    app.before_request(_reads_only_when_getting)
    app.after_request(_remember_writes)
    app.teardown_request(_done_reading)
    init_api(app)
    register_browser_guards(app)
    init_web(app)
    app.wsgi_app = WholeBodies(app.wsgi_app)  # type: ignore[method-assign]  # (outermost: sees the final length)
    # What start-up built (templates, schemas, the registries, SQLAlchemy's mappers) lives as long as the process:
    # kept out of the collector's full passes, which otherwise walk it all again and again under load.
    gc.collect()
    gc.freeze()
    return app
