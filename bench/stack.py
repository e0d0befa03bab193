"""Where a server's CPU per approval goes, in one process: ``python -m bench.stack`` prints the runtime's part and
the HTTP stack's (Flask, our hooks, flask-smorest, the response), without a server, sockets or threads.

``bench.service`` measures the whole machine under load, which on a shared
2-core VM drifts by a factor of two within minutes (issue 25); its server
CPU per process cannot say which layer a change made cheaper. This calls the
same actions in one thread, alternating, and takes medians: the runtime
alone (``start_instance``, ``complete_task``), the same through the app's WSGI
callable (prebuilt environs, the JSON answers read back as a client would),
and a bare Flask app calling the runtime the same way (``jsonify`` of the
two ids it needs) — so the app's own stack is "app - runtime", and what our
layers add over plain Flask is "app - bare".
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench.service import DEFINITION, USER, prepare, scratch_database


def _environ(method: str, path: str, body: bytes) -> dict[str, Any]:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "5000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:5000", "HTTP_X_BPM_USER": USER, "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "wsgi.version": (1, 0), "wsgi.input_terminated": True}


def _post(app: Callable[..., Any], path: str, body: dict[str, Any]) -> dict[str, Any]:
    status: list[str] = []
    answer = app(_environ("POST", path, orjson.dumps(body)), lambda s, h, e=None: status.append(s))
    try:
        data = b"".join(answer)
    finally:
        getattr(answer, "close", lambda: None)()
    if not status[0].startswith("2"):
        raise RuntimeError(f"{path}: {status[0]} {data[:300]!r}")
    return orjson.loads(data)


def _bare_app(rt: Any) -> Callable[..., Any]:
    from flask import Flask, jsonify, request

    from bpm.runtime.instances import start_instance
    from bpm.runtime.tasks import complete_task

    bare = Flask("bare")

    @bare.post("/api/instances")
    def start() -> Any:
        body = request.get_json()
        instance, run = start_instance(rt, rt.actor(request.headers["X-BPM-User"]), body["definition"],
                                       body["payload"])
        return jsonify({"id": instance.id, "openTasks": [{"id": run.created_tasks[0].id}]}), 201

    @bare.post("/api/tasks/<task_id>/complete")
    def complete(task_id: str) -> Any:
        body = request.get_json()
        view, _, _ = complete_task(rt, rt.actor(request.headers["X-BPM-User"]), task_id, body["outcome"], {})
        return jsonify({"status": view.status})

    return bare.wsgi_app


def measure(url: str, processes: int, rounds: int) -> dict[str, float]:
    """Median CPU milliseconds per approval (start + completion) for each way in."""
    os.environ.update(BPM_DATABASE_URL=url, BPM_DEV_IDENTITY="1", BPM_LOG_LEVEL="WARNING")
    from bpm.app import create_app
    from bpm.runtime.instances import start_instance
    from bpm.runtime.tasks import complete_task

    flask_app = create_app()
    rt = flask_app.extensions["bpm"]
    actor = rt.actor(USER)
    app, bare = flask_app, _bare_app(rt)

    def runtime(n: int) -> None:
        task_id = start_instance(rt, actor, DEFINITION["id"], {"n": n})[1].created_tasks[0].id
        complete_task(rt, actor, task_id, "approve", {})

    def through(wsgi: Callable[..., Any]) -> Callable[[int], None]:
        def one(n: int) -> None:
            started = _post(wsgi, "/api/instances", {"definition": DEFINITION["id"], "payload": {"n": n}})
            done = _post(wsgi, f"/api/tasks/{started['openTasks'][0]['id']}/complete", {"outcome": "approve"})
            assert done["status"] == "completed"
        return one

    ways = {"runtime alone": runtime, "bare Flask": through(bare), "the app": through(app)}
    for one in ways.values():  # warm up: caches, prepared statements
        for n in range(30):
            one(n)
    spent: dict[str, list[float]] = {name: [] for name in ways}
    for round_number in range(rounds):
        order = list(ways.items()) if round_number % 2 == 0 else list(reversed(ways.items()))
        for name, one in order:
            began = time.process_time()
            for n in range(processes):
                one(n)
            spent[name].append((time.process_time() - began) / processes * 1000)
    rt.close()
    return {name: statistics.median(values) for name, values in spent.items()}


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=300, help="approvals per way in and round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (the medians are printed)")
    args = parser.parse_args()
    with scratch_database() as url:
        prepare(url)
        figures = measure(url, args.processes, args.rounds)
    runtime, bare, app = figures["runtime alone"], figures["bare Flask"], figures["the app"]
    print(f"CPU per approval (start + completion), in one process, median of {args.rounds} rounds of "
          f"{args.processes}:")
    for name, value in figures.items():
        print(f"  {name:<14} {value:6.3f} ms")
    print(f"  the app's HTTP stack: {app - runtime:.3f} ms per approval ({(app - runtime) / app:.0%} of the app); "
          f"over bare Flask: {app - bare:.3f} ms")


if __name__ == "__main__":
    main()
