"""Input every endpoint refuses before it reaches the runtime: NUL characters, oversized or hostile bodies.

PostgreSQL cannot store U+0000 in text or JSONB, so such input would fail deep
in a query; refusing it at the door gives the caller a clear 422 instead.
A JSON body is parsed here, once, by ``bpm.inbound`` (depth, NaN, surrogates, 64-bit
integers, NUL), before any view runs.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, g, request
from webargs.flaskparser import is_json_request

from bpm.errors import InvalidRequest
from bpm.inbound import parse_json_body


def _may_hold_nul(raw: bytes) -> bool:
    """False when a query string cannot hold U+0000 (the common case), decided without parsing it."""
    return b"\x00" in raw or b"%00" in raw


def refuse_nul_characters() -> None:
    """Raise InvalidRequest if the path or the query holds a NUL character (bodies: ``bpm.inbound``)."""
    if "\x00" in request.path:
        raise InvalidRequest("the path contains a NUL character", {"path": ["NUL characters are not allowed"]})
    if _may_hold_nul(request.query_string):
        for key, value in request.args.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise InvalidRequest("the query contains a NUL character", {key: ["NUL characters are not allowed"]})


def parse_request_body() -> None:
    """A JSON body passes ``bpm.inbound.parse_json_body`` or the request is refused; views get the value."""
    if not is_json_request(request):
        return
    raw = request.get_data(cache=True)
    if raw:  # as webargs: an empty body is a missing one
        g.json_body = parse_json_body(raw, current_app.config["BPM_MAX_JSON_DEPTH"])


class SizedBodies:
    """WSGI middleware: a chunked request body is read here and handed on with its length.

    Werkzeug ignores Content-Length on a chunked request (as HTTP says) and
    silently cuts the body at MAX_CONTENT_LENGTH, so an oversized upload
    reached the API as broken JSON (400). Read here (one byte past the limit
    is enough to know) and sent on as a sized body, it gets Flask's 413 like
    any other oversized body.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], limit: int) -> None:
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("wsgi.input_terminated") and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = environ["wsgi.input"].read(self.limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.app(environ, start_response)


UPLOAD_ENDPOINTS = frozenset({"attachments.TaskAttachments", "files.add_attachment"})
FORM_OVERHEAD = 64 * 1024  # the multipart envelope and the small fields around a file


def upload_limit(app: Flask) -> int:
    """The largest body a file upload may send: one attachment and its envelope."""
    return int(app.extensions["bpm"].settings.max_attachment_bytes) + FORM_OVERHEAD


def allow_uploads() -> None:
    """A file upload may be as large as one attachment; every other body keeps BPM_MAX_BODY_BYTES.

    Runs before anything reads the body (the CSRF check reads the form), so the limit holds from the first byte.
    """
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = upload_limit(current_app)


def register_guards(app: Flask) -> None:
    """Run the guards before every request."""
    largest = max(app.config["MAX_CONTENT_LENGTH"], upload_limit(app))
    app.wsgi_app = SizedBodies(app.wsgi_app, largest)  # type: ignore[method-assign]
    app.before_request_funcs.setdefault(None, []).insert(0, allow_uploads)  # before identify and CSRF
    app.before_request(refuse_nul_characters)
    app.before_request(parse_request_body)
