"""Sized responses reach the WSGI server as one bytes object; streams, big files and HEAD pass through as they were."""

from __future__ import annotations

from flask import Flask, Response, g, stream_with_context
from werkzeug.test import create_environ, run_wsgi_app

from bpm.http.whole_bodies import WholeBodies


def _app() -> tuple[Flask, list[str]]:
    app, ended = Flask("t"), []

    @app.get("/small")
    def small():
        return {"ok": True}

    @app.get("/big")
    def big():
        return Response(b"x" * 300_000, mimetype="application/octet-stream")

    @app.get("/stream")
    def stream():
        return Response(stream_with_context(iter([b"a", b"b", b"c"])), mimetype="text/plain")

    @app.teardown_request
    def note(_error):
        ended.append(g.get("name", "request"))

    return app, ended


def _call(app, path: str, method: str = "GET"):
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers

    body = WholeBodies(app.wsgi_app)(create_environ(path, method=method), start_response)
    return captured, body


def test_a_sized_answer_is_one_bytes_in_a_list_and_its_request_is_torn_down():
    app, ended = _app()
    captured, body = _call(app, "/small")
    assert isinstance(body, list) and len(body) == 1 and body[0] == b'{"ok":true}\n'
    assert captured["status"] == "200 OK" and ended == ["request"], "closed: the teardown ran"


def test_streams_big_files_and_head_pass_through():
    app, _ = _app()
    _, streamed = _call(app, "/stream")
    assert not isinstance(streamed, list) and b"".join(streamed) == b"abc"
    _, big = _call(app, "/big")
    assert not isinstance(big, list) and len(b"".join(big)) == 300_000
    _, head = _call(app, "/small", method="HEAD")
    assert not isinstance(head, list)


def test_the_answer_is_what_the_app_sent():
    app, _ = _app()
    direct = run_wsgi_app(app.wsgi_app, create_environ("/small"))
    _, body = _call(app, "/small")
    assert b"".join(direct[0]) == body[0]
