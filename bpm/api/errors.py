"""The API's error answers: every error, ours or the framework's, in the one shape (``bpm.http.errors``)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from werkzeug.exceptions import BadRequest, HTTPException, default_exceptions
from werkzeug.http import HTTP_STATUS_CODES

from bpm.errors import BpmError, ServiceUnavailable
from bpm.http.errors import error_body, field_errors, headers_of, is_api_request, message_of, status_of
from bpm.store.outage import OUTAGE_ERRORS, OutageLog

logger = logging.getLogger(__name__)

_EXCEPTION_BY_CODE: dict[int, type[HTTPException]] = dict(default_exceptions)


def handle_bpm_error(error: BpmError) -> Any:
    """Turn a domain error into its HTTP response: JSON under /api, the error page elsewhere."""
    code, api = status_of(error), is_api_request()
    headers = headers_of(error, api)
    if not api:
        return page_for(_EXCEPTION_BY_CODE.get(code, BadRequest)(description=message_of(error)), headers)
    return error_body(code, message_of(error), field_errors(error)), code, headers


def _said_by_http(error: HTTPException) -> dict[str, str]:
    """Headers HTTP requires with the status: ``Allow`` on a 405 (which methods the address takes)."""
    return {name: value for name, value in error.get_headers() if name == "Allow"}


def page_for(error: HTTPException, headers: dict[str, str]) -> Any:
    """A page's error: the web layer's page when it registered one (``bpm_error_page``), werkzeug's otherwise."""
    headers = {**_said_by_http(error), **headers}
    render = current_app.extensions.get("bpm_error_page")
    if render is None:
        return error if not headers else (error.get_response(), headers)
    body, code = render(error)
    return body, code, headers


class BpmApi(Api):
    """flask-smorest's Api with errors always in our shape (message included, fields flattened)."""

    def _register_pagination_header(self) -> None:
        """X-Pagination carries JSON: documented as JSON content, not as a header object in the "simple" style
        (``total,3,total_pages,1``) that OpenAPI assumes for a bare schema and that no answer matched."""
        self.spec.components.header("PAGINATION", {
            "description": "Pagination metadata, as JSON", "content": {
                "application/json": {"schema": PaginationMetadataSchema}}}, lazy=True)

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
        return error_body(code, message, errors), code, {**_said_by_http(error), **(data.get("headers") or {})}


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
    """Map BpmError subclasses, and the database's being away (503, Retry-After); other exceptions become
    flask-smorest's 500 in the same shape."""
    app.register_error_handler(BpmError, handle_bpm_error)
    outages = OutageLog()
    app.extensions["bpm_outage"] = outages

    def database_away(error: Exception) -> Any:
        outages.failed(error)  # logged once per outage, with the driver's first line of reason
        return handle_bpm_error(ServiceUnavailable("the database is not answering; try again in a few seconds"))

    for kind in OUTAGE_ERRORS:
        app.register_error_handler(kind, database_away)

    @app.after_request
    def _database_answered(response: Any) -> Any:
        if outages.away and response.status_code != 503:
            outages.recovered()
        return response
