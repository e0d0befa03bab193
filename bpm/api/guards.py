"""Input every endpoint refuses before it reaches the runtime: text with NUL characters, oversized bodies.

PostgreSQL cannot store U+0000 in text or JSONB, so such input would fail deep
in a query; refusing it at the door gives the caller a clear 422 instead.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request

from bpm.errors import InvalidRequest


def _nul_path(value: Any, path: str) -> str | None:
    """The JSON path of the first string (or key) holding U+0000, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return path
            found = _nul_path(item, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_path(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _may_hold_nul(raw: bytes) -> bool:
    """False when ``raw`` (a query string or JSON text) cannot hold U+0000: the common case, decided without parsing.

    In a query string NUL arrives raw or as ``%00``; in JSON only as the escape
    ``\\u0000`` (a raw control character is not valid JSON). A match may be a
    false alarm (an escaped backslash before "u0000"); the parsed value decides.
    """
    return b"\x00" in raw or b"%00" in raw or b"\\u0000" in raw


def refuse_nul_characters() -> None:
    """Raise InvalidRequest if the path, the query or a JSON body holds a NUL character."""
    if "\x00" in request.path:
        raise InvalidRequest("the path contains a NUL character", {"path": ["NUL characters are not allowed"]})
    if _may_hold_nul(request.query_string):
        for key, value in request.args.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise InvalidRequest("the query contains a NUL character", {key: ["NUL characters are not allowed"]})
    if request.is_json and request.content_length and _may_hold_nul(request.get_data(cache=True)):
        body = request.get_json(silent=True)
        where = _nul_path(body, "$") if body is not None else None
        if where is not None:
            raise InvalidRequest("the body contains a NUL character", {where: ["NUL characters are not allowed"]})


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


def register_guards(app: Flask) -> None:
    """Run the guards before every request."""
    app.wsgi_app = SizedBodies(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    app.before_request(refuse_nul_characters)
