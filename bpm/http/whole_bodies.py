"""WSGI middleware: a response whose length is known reaches the server as one ``bytes`` in a list.

A WSGI server takes a list as the whole body and writes it at once; any
other iterable it must iterate, and granian (`bpm serve`) does that from
its side, calling back into Python under the GIL for each chunk and for the
end. Flask hands every response over as an iterator (closing it ends the
request: teardown), so even a 300-byte JSON answer took that way (issue 25:
granian's own share of the server's GIL time 15.3 and 11.7 % without this,
11.7 and 9.9 % with it, py-spy under bench.service's load).

Only a response that says its Content-Length, no larger than ``limit``, is
collected (and then closed, so the request's teardown runs as before); a
download streamed as it is produced (exports) has no length, a large file
has a large one, and HEAD has no body: they pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WHOLE_BODY_LIMIT = 256 * 1024


class WholeBodies:
    """Collect sized responses of at most ``limit`` bytes into ``[body]`` (see the module's docstring)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], limit: int = WHOLE_BODY_LIMIT) -> None:
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sized = False

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal sized
            for name, value in headers:
                if len(name) == 14 and name.lower() == "content-length":
                    sized = value.isdigit() and int(value) <= self.limit
                    break
            return start_response(status, headers, exc_info)

        body = self.app(environ, recording_start_response)
        if not sized or isinstance(body, list) or environ.get("REQUEST_METHOD") == "HEAD":
            return body
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
