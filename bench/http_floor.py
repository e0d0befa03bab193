"""What this machine allows the stack at best: ``python -m bench.http_floor`` prints processes/s.

The same approval process as bench.service (start, then complete one task;
the same SQL statements and round trips on PostgreSQL, the same server
(granian) configuration and HTTP client) served by a bare Flask app with hand-written
SQL (bench/floor_app.py). bench.service divided by this is the share of the
machine our own layers leave for the work itself.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.service import Client, Level, cpu_by_side, run_threads, scratch_database
from bpm.config import Settings

SCHEMA = """
CREATE TABLE floor_definition (id serial PRIMARY KEY, key text, version int);
INSERT INTO floor_definition (key, version) VALUES ('k', 1);
CREATE TABLE floor_instance (id text PRIMARY KEY, snapshot jsonb, revision int);
CREATE TABLE floor_history (id bigserial PRIMARY KEY, instance_id text, revision int, delta jsonb);
CREATE TABLE floor_task (id text PRIMARY KEY, instance_id text, status text, revision int);
"""


def drive(port: int, clients: int, seconds: float) -> tuple[int, float]:
    """Processes completed by ``clients`` keep-alive connections in about ``seconds``, and the seconds taken."""
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        client = Client(port)
        while time.perf_counter() < stop:
            task_id = client.post("/start", {"n": i})["openTasks"][0]["id"]
            assert client.post(f"/complete/{task_id}", {})["status"] == "completed"
            counts[i] += 1

    elapsed = run_threads(worker, clients)
    return sum(counts), elapsed


def _wait_until_listening(port: int, server: subprocess.Popen, log: Path, seconds: float = 60.0) -> None:
    """Until the server answers on ``port``; a server that exits says why (its log) instead of a timeout."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the floor server exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the floor server did not start in {seconds:.0f} s: {log.read_text()[-2000:]}")


def floor_rates(clients: list[int], seconds: float, port: int, workers: int, threads: int) -> dict[int, Level]:
    """The floor app at each number of clients, on a scratch database."""
    rates: dict[int, Level] = {}
    with scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        env = {**os.environ, "BPM_FLOOR_DATABASE_URL": url}
        log = Path(tempfile.mkdtemp()) / "floor.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
                 "--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
                 "bench.floor_app:app"], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_listening(port, server, log)
            drive(port, 2, 1.0)
            for count in clients:
                server_before, database_before = cpu_by_side(server.pid)
                processes, elapsed = drive(port, count, seconds)
                server_after, database_after = cpu_by_side(server.pid)
                rates[count] = Level(processes / elapsed, (server_after - server_before) / processes * 1000,
                                     (database_after - database_before) / processes * 1000)
        finally:
            server.terminate()
            server.wait(timeout=20)
    return rates


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--port", type=int, default=5097)
    args = parser.parse_args()
    defaults = Settings()
    for clients, level in floor_rates(args.clients, args.seconds, args.port, defaults.workers,
                                      defaults.threads).items():
        print(f"floor: bare Flask + hand-written SQL, {clients:>2} clients: {level.rate:7.1f} processes/s   "
              f"CPU per process: server {level.server_ms:.2f} ms, PostgreSQL {level.database_ms:.2f} ms")


if __name__ == "__main__":
    main()
