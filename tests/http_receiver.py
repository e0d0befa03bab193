"""A real HTTP receiver on loopback for webhook tests: it records what it is sent and answers as told."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .mail_server import free_port


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers each POST with the next of ``answers`` (204 when none are left) and keeps (headers, body)."""

    answers: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).answers.pop(0) if type(self).answers else 204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def receiving(path: str) -> Iterator[tuple[str, type[Receiver]]]:
    """A receiver listening while the block runs: its URL (ending in ``path``) and its record."""
    Receiver.answers, Receiver.received = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}", Receiver
    finally:
        server.shutdown()
