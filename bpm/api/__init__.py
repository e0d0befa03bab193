"""The REST API (flask-smorest): thin adapters over the runtime, documented as OpenAPI 3."""

from __future__ import annotations

from flask import Flask

from bpm import __version__
from bpm.api.errors import BpmApi, register_error_handlers
from bpm.api.guards import register_guards


def init_api(app: Flask) -> BpmApi:
    """Register the API blueprints, the OpenAPI document and the offline Swagger UI."""
    from bpm.api import (
        absences,
        attachments,
        audit,
        definitions,
        directory,
        forms,
        health,
        incidents,
        instances,
        notifications,
        tasks,
    )

    app.config.update(
        API_TITLE="Refluxo BPM", API_VERSION=__version__, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs", OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
        # Every operation needs one of these (health says it needs none); Swagger UI's "Authorize" takes a token.
        API_SPEC_OPTIONS={"security": [{"bearerToken": []}, {"sessionCookie": []}]},
    )
    api = BpmApi(app)
    api.spec.components.security_scheme("bearerToken", {
        "type": "http", "scheme": "bearer", "bearerFormat": "bpm_<id>_<secret>, or the SSO provider's JWT",
        "description": "An API token (`bpm tokens create USER`, or the tokens page)."})
    api.spec.components.security_scheme("sessionCookie", {
        "type": "apiKey", "in": "cookie", "name": "session",
        "description": "The browser session after signing in at /login; changes also need the X-CSRF-Token header."})
    for module in (definitions, instances, tasks, attachments, notifications, incidents, audit, forms, directory,
                   absences, health):
        api.register_blueprint(module.blp)
    register_error_handlers(app)
    register_guards(app)
    return api
