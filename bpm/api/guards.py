"""Input every endpoint refuses before it reaches the runtime: text with NUL characters.

PostgreSQL cannot store U+0000 in text or JSONB, so such input would fail deep
in a query; refusing it at the door gives the caller a clear 422 instead.
"""

from __future__ import annotations

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


def refuse_nul_characters() -> None:
    """Raise InvalidRequest if the path, the query or a JSON body holds a NUL character."""
    if "\x00" in request.path:
        raise InvalidRequest("the path contains a NUL character", {"path": ["NUL characters are not allowed"]})
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            raise InvalidRequest("the query contains a NUL character", {key: ["NUL characters are not allowed"]})
    if request.is_json and request.content_length:
        body = request.get_json(silent=True)
        where = _nul_path(body, "$") if body is not None else None
        if where is not None:
            raise InvalidRequest("the body contains a NUL character", {where: ["NUL characters are not allowed"]})


def register_guards(app: Flask) -> None:
    """Run the guards before every request."""
    app.before_request(refuse_nul_characters)
