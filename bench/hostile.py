"""One definition must not slow everyone down: ``python -m bench.hostile [--database sqlite|postgresql]``.

A person reads their inbox (``GET /api/tasks``) through the real server (`bpm serve`, 2 workers x 2 threads)
with a worker (`bpm worker`) beside it: first alone, then while one employee starts four hostile processes at
once, every second — a chain of steps that each render a template near the size limit (CPU in every step), and
a loop no task or timer interrupts (the issue's case: four starts at once took another person's p95 from 24 to
226 ms). It prints the reader's p50/p95 both ways and their ratio (the issue asks for at most 2x), and
how the hostile instances ended (each with the bound it broke).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, nullcontext
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from bench.service import Client, prepare, scratch_database, server

HEAVY = {"id": "heavy", "name": "Heavy", "nodes": [{"id": "s", "type": "start"}] + [
    {"id": f"n{i}", "type": "set", "data": {"values": {"x": "{{ input.values|keys }} " * 2_500}}}
    for i in range(40)] + [{"id": "e", "type": "end"}]}
HEAVY["edges"] = [{"id": f"h{i}", "source": a["id"], "target": b["id"]}
                  for i, (a, b) in enumerate(pairwise(HEAVY["nodes"]))]
ENDLESS = {"id": "endless", "name": "Endless", "nodes": [
    {"id": "s", "type": "start"}, {"id": "count", "type": "set", "data": {"values": {"n": "{{ 1 + 1 }}"}}},
    {"id": "again", "type": "decision",
     "data": {"rules": [{"when": "{{ true }}", "handle": "round"}], "default": "out"}},
    {"id": "done", "type": "end"}],
    "edges": [{"id": "a", "source": "s", "target": "count"}, {"id": "b", "source": "count", "target": "again"},
              {"id": "c", "source": "again", "target": "count", "sourceHandle": "round"},
              {"id": "d", "source": "again", "target": "done", "sourceHandle": "out"}]}


class Reader(Client):
    """The benchmark's client, with a GET."""

    def get(self, path: str) -> Any:
        self.sock.sendall(b"GET %s HTTP/1.1\r\n%s\r\n" % (path.encode(), self.headers))
        while b"\r\n\r\n" not in self.pending:
            self.pending += self._receive()
        head, _, rest = self.pending.partition(b"\r\n\r\n")
        length = self._content_length(head)
        while len(rest) < length:
            rest += self._receive()
        answer, self.pending = rest[:length], rest[length:]
        return orjson.loads(answer)


def _publish(url: str) -> None:
    from bpm.config import Settings
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.definitions import import_definition

    rt = Runtime.build(Settings(database_url=url), SystemClock())
    for body in (HEAVY, ENDLESS):
        import_definition(rt, SYSTEM_ACTOR, body)
    rt.close()


@contextmanager
def _worker(url: str):
    env = {**os.environ, "BPM_DATABASE_URL": url, "BPM_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "bpm.cli", "worker", "--interval", "0.2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)


def _read(port: int, seconds: float) -> list[float]:
    reader, samples = Reader(port), []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        began = time.perf_counter()
        reader.get("/api/tasks")
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def _hostile(port: int, stop: threading.Event, started: list[str], key: str) -> None:
    """One of four clients of one employee: a start of a hostile process each second, as fast as it answers."""
    client = Client(port)
    while not stop.is_set():
        began = time.perf_counter()
        started.append(client.post("/api/instances", {"definition": key, "payload": {}})["id"])
        stop.wait(max(0.0, 1.0 - (time.perf_counter() - began)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory() if args.database == "sqlite" else None
    where = scratch_database() if scratch is None else nullcontext(f"sqlite:///{Path(scratch.name) / 'h.db'}")
    with where as url:
        prepare(url)
        _publish(url)
        port = _free_port()
        with server(url, port, workers=2, threads=2), _worker(url):
            seeder = Client(port)
            for n in range(100):  # the reader's inbox: a hundred open tasks
                seeder.post("/api/instances", {"definition": "bench-approval", "payload": {"n": n}})
            quiet = _read(port, args.seconds)
            stop, started = threading.Event(), []
            hostiles = [threading.Thread(target=_hostile, args=(port, stop, started, key))
                        for key in ("heavy", "endless", "heavy", "endless")]
            for thread in hostiles:
                thread.start()
            loud = _read(port, args.seconds)
            stop.set()
            for thread in hostiles:
                thread.join()
            time.sleep(2)
            ended = [Reader(port).get(f"/api/instances/{i}") for i in started[:20]]
    if scratch is not None:
        scratch.cleanup()
    print(f"database: {args.database}; the reader's GET /api/tasks over {args.seconds:g} s each way")
    print(f"quiet:   p50 {statistics.median(quiet):6.1f} ms   p95 {_p(quiet, 0.95):6.1f} ms   "
          f"({len(quiet)} reads)")
    print(f"hostile: p50 {statistics.median(loud):6.1f} ms   p95 {_p(loud, 0.95):6.1f} ms   ({len(loud)} reads, "
          f"{len(started)} hostile starts)")
    print(f"p95 under hostile load / quiet: {_p(loud, 0.95) / _p(quiet, 0.95):.2f}x (at most 2x asked)")
    reasons: dict[str, int] = {}
    for one in ended:
        said = f"{one.get('status')}: {(one.get('error') or '')[:90]}"
        reasons[said] = reasons.get(said, 0) + 1
    for said, n in sorted(reasons.items()):
        print(f"  {n:3} hostile instances {said}")


if __name__ == "__main__":
    main()
