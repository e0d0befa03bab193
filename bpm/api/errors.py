"""The one mapping from BpmError to HTTP, and the one JSON error shape ``{code, status, message, errors}``."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import Api
from werkzeug.exceptions import BadRequest, HTTPException, default_exceptions
from werkzeug.http import HTTP_STATUS_CODES

from bpm.engine.errors import ProblemsError
from bpm.errors import (
    BpmError,
    ConflictError,
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    PreconditionFailed,
    TooManyAttempts,
    Unauthorized,
)

logger = logging.getLogger(__name__)

_EXCEPTION_BY_CODE: dict[int, type[HTTPException]] = dict(default_exceptions)
STATUS_BY_ERROR: tuple[tuple[type[BpmError], int], ...] = (
    (NotFound, 404), (ConflictError, 409), (PreconditionFailed, 412), (Unauthorized, 401), (Forbidden, 403),
    (InvalidRequest, 422), (ProblemsError, 422), (MalformedRequest, 400), (TooManyAttempts, 429),
)


def error_body(code: int, message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The error shape every endpoint uses."""
    body: dict[str, Any] = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    return body


def _field_errors(error: BpmError) -> dict[str, list[str]] | None:
    if isinstance(error, InvalidRequest):
        return error.errors
    if isinstance(error, ProblemsError):
        found: dict[str, list[str]] = {}
        for problem in error.problems:
            found.setdefault(problem.path, []).append(problem.message)
        return found
    return None


def is_api_request() -> bool:
    """True for requests under /api: only they get the JSON error shape (pages answer in their own way)."""
    return request.path == "/api" or request.path.startswith("/api/")


def status_of(error: BpmError) -> int:
    """The HTTP status a domain error maps to (the one table, for API and pages alike)."""
    return next((status for kind, status in STATUS_BY_ERROR if isinstance(error, kind)), 400)


def handle_bpm_error(error: BpmError) -> Any:
    """Turn a domain error into its HTTP response: JSON under /api, werkzeug's exception elsewhere."""
    code = status_of(error)
    message = error.summary if isinstance(error, ProblemsError) else str(error)
    headers = _headers_of(error)
    if not is_api_request():
        return page_for(_EXCEPTION_BY_CODE.get(code, BadRequest)(description=message), headers)
    return error_body(code, message, _field_errors(error)), code, headers


def page_for(error: HTTPException, headers: dict[str, str]) -> Any:
    """A page's error: the web layer's page when it registered one (``bpm_error_page``), werkzeug's otherwise."""
    render = current_app.extensions.get("bpm_error_page")
    if render is None:
        return error if not headers else (error.get_response(), headers)
    body, code = render(error)
    return body, code, headers


def _headers_of(error: BpmError) -> dict[str, str]:
    """What HTTP says to send with the status: how to authenticate, when to try again."""
    if isinstance(error, Unauthorized) and is_api_request():
        return {"WWW-Authenticate": 'Bearer realm="bpm"'}
    if isinstance(error, TooManyAttempts):
        return {"Retry-After": str(error.retry_after)}
    return {}


class BpmApi(Api):
    """flask-smorest's Api with errors always in our shape (message included, fields flattened)."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not is_api_request():
            return page_for(error, {})
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if isinstance(errors, dict) and set(errors) <= {"json", "query", "headers", "path", "form"}:
            flat: dict[str, Any] = {}
            for location_errors in errors.values():  # webargs nests by location; fields are what matters
                flat.update(location_errors if isinstance(location_errors, dict) else {"_body": location_errors})
            errors = flat
        code = error.code or 500
        if code >= 500:
            reference = uuid.uuid4().hex[:12]
            cause = getattr(error, "original_exception", None) or error.__cause__ or error
            logger.error("request failed with %s [reference %s]", code, reference, exc_info=cause)
            message = f"an internal error occurred; quote reference {reference} to the operator"
            return error_body(code, message), code, {}
        message = data.get("message") or _plain_message(error, errors) or HTTP_STATUS_CODES.get(code, "Error")
        return error_body(code, message, errors), code, data.get("headers", {})


def _plain_message(error: HTTPException, errors: Any) -> str | None:
    """What went wrong, said for the caller: werkzeug's own descriptions speak of browsers and proxies."""
    cause = getattr(error, "exc", None)  # flask-smorest's abort keeps webargs' parse error here
    if isinstance(cause, json.JSONDecodeError):
        return f"the request body is not valid JSON: {cause.msg} at line {cause.lineno}, column {cause.colno}"
    if error.code == 422 and isinstance(errors, dict) and errors:
        return f"invalid request fields: {', '.join(sorted(map(str, errors)))}"
    if error.code == 413:
        return f"the request body is larger than the limit of {request.max_content_length:,} bytes"
    return error.description


def register_error_handlers(app: Flask) -> None:
    """Map BpmError subclasses; other exceptions become flask-smorest's 500 in the same shape."""
    app.register_error_handler(BpmError, handle_bpm_error)
