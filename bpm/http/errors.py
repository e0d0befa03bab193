"""The one table from a domain error to its HTTP status, and the JSON error shape ``{code, status, message, errors}``.

The API answers with the shape; the pages answer with the page again and the
same status (``status_of``), or with the error page. Both read the table here.
"""

from __future__ import annotations

from typing import Any

from flask import request
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
    ServiceUnavailable,
    TooManyAttempts,
    Unauthorized,
)

STATUS_BY_ERROR: tuple[tuple[type[BpmError], int], ...] = (
    (NotFound, 404), (ConflictError, 409), (PreconditionFailed, 412), (Unauthorized, 401), (Forbidden, 403),
    (InvalidRequest, 422), (ProblemsError, 422), (MalformedRequest, 400), (TooManyAttempts, 429),
    (ServiceUnavailable, 503),
)


def status_of(error: BpmError) -> int:
    """The HTTP status a domain error maps to, for the API and the pages alike."""
    return next((status for kind, status in STATUS_BY_ERROR if isinstance(error, kind)), 400)


def message_of(error: BpmError) -> str:
    """What went wrong, in one sentence (a definition's problems are summed up; each is in ``field_errors``)."""
    return error.summary if isinstance(error, ProblemsError) else str(error)


def field_errors(error: BpmError) -> dict[str, list[str]] | None:
    """The error's messages by field (by path, for a definition's problems); None when it names no field."""
    if isinstance(error, InvalidRequest):
        return error.errors
    if isinstance(error, ProblemsError):
        found: dict[str, list[str]] = {}
        for problem in error.problems:
            found.setdefault(problem.path, []).append(problem.message)
        return found
    return None


def error_body(code: int, message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The error shape every endpoint uses."""
    body: dict[str, Any] = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    return body


def headers_of(error: BpmError, api: bool) -> dict[str, str]:
    """What HTTP says to send with the status: how to authenticate (API only), when to try again."""
    if isinstance(error, Unauthorized) and api:
        return {"WWW-Authenticate": 'Bearer realm="bpm"'}
    if isinstance(error, (TooManyAttempts, ServiceUnavailable)):
        return {"Retry-After": str(error.retry_after)}
    return {}


def is_api_request() -> bool:
    """True for requests under /api: only they get the JSON error shape (pages answer in their own way)."""
    return request.path == "/api" or request.path.startswith("/api/")
