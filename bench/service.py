"""End-to-end throughput on PostgreSQL: ``python -m bench.service`` prints processes/s and latencies.

It creates a scratch database, migrates it, starts the real server (`bpm serve`,
granian) against it, and drives approval processes (start -> complete one
human task -> end) over HTTP with 1, 4 and 16 concurrent clients. In the same
run it measures what the machine allows, because the VM's speed drifts and
only figures from one run compare: a pure-Python reference (the engine's
chain benchmark), the ceiling (single-row version-checked UPDATE+INSERT
transactions per second straight into PostgreSQL) and the floor (the same
process from a bare Flask app with hand-written SQL, bench.http_floor).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import orjson
import psycopg

from bench.engine import bench_chain
from bpm.config import Settings

ADMIN_URL = os.environ.get("BPM_BENCH_DATABASE_URL",
                           os.environ.get("BPM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
USER = "bench"
DEFINITION = {
    "id": "bench-approval", "name": "Benchmark approval",
    "nodes": [{"id": "ask", "type": "start"},
              {"id": "approve", "type": "human-task",
               "data": {"title": "Approve {{ ask.last.data.n }}", "assignee": USER, "outcomes": ["approve"]}},
              {"id": "done", "type": "end", "data": {"outcome": "approved"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "approve"},
              {"id": "e2", "source": "approve", "target": "done", "sourceHandle": "approve"}],
}


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new empty database next to ADMIN_URL, dropped afterwards."""
    name = f"bpm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str) -> None:
    """Migrate, add the benchmark user and publish the benchmark process."""
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.definitions import import_definition
    from bpm.store.migrate import upgrade
    from bpm.store.models import User

    upgrade(url)
    rt = Runtime.build(Settings(database_url=url), SystemClock())
    with rt.uow() as uow:
        uow.session.add(User(username=USER, display_name="Bench", roles=["employee"], created_at=rt.now()))
        uow.commit()
    import_definition(rt, SYSTEM_ACTOR, DEFINITION)
    rt.close()


@contextmanager
def server(url: str, port: int, workers: int, threads: int, pooler: str = "",
           root: Path | None = None) -> Iterator[int]:
    """`bpm serve` in a subprocess, ready when /api/health answers; yields its process id.

    ``root``: a source tree whose ``bpm`` to serve (bench.against), instead of the installed one.
    """
    env = {**os.environ, "BPM_DATABASE_URL": url, "BPM_DEV_IDENTITY": "1", "BPM_PORT": str(port),
           "BPM_WORKERS": str(workers), "BPM_THREADS": str(threads), "BPM_LOG_LEVEL": "WARNING",
           "BPM_DB_POOL_SIZE": str(threads), "BPM_DATABASE_POOLER": pooler}
    if root is not None:
        env["PYTHONPATH"] = str(root)
    process = subprocess.Popen([sys.executable, "-m", "bpm.cli", "serve"], env=env, cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


@dataclass(frozen=True)
class Level:
    """One load level's rate, and the CPU one process cost the server and PostgreSQL (read from /proc).

    Beside the floor's, the split says where the service's excess lies: in
    its own process (the stack, the rules) or in the database (the SQL it
    sends: the chain, the outbox, the indexes the inbox reads).
    """

    rate: float
    server_ms: float
    database_ms: float


def _cpu_seconds(stat_line: str, reaped: bool = False) -> float:
    """A process's CPU (utime + stime); with ``reaped``, also what its children that have ended used (cutime +
    cstime): a PostgreSQL backend that ends between two readings leaves /proc, and only its postmaster, which
    waited for it, still counts its time — without that, PostgreSQL's figure could fall (issue 25 saw -2.92 ms)."""
    fields = stat_line.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_side(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server (its process and workers) and by PostgreSQL, read from /proc."""
    server = database = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if server_pid in (int(entry.name), parent):
            server += _cpu_seconds(stat, reaped=int(entry.name) == server_pid)  # a worker that ended counts too
        elif "(postgres)" in stat or "(pgbouncer)" in stat:  # (PgBouncer's, when the run goes through it)
            database += _cpu_seconds(stat, reaped=True)
    return server, database


class Client:
    """One keep-alive HTTP/1.1 connection acting as the benchmark user, spoken on a bare socket.

    The load generator shares the two cores it measures, so it should cost
    little: http.client and the json module cost about three times what this
    client does (the run prints the client's CPU per process). It sends
    pre-built requests and reads Content-Length bodies, nothing more (the
    server always sends a length).
    """

    def __init__(self, port: int, user: str = USER) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.headers = (f"Host: 127.0.0.1:{port}\r\nX-BPM-User: {user}\r\n"
                        "Content-Type: application/json\r\n").encode()
        self.pending = b""

    def post(self, path: str, body: dict) -> dict:
        """POST ``body`` as JSON to ``path``; the decoded JSON answer (RuntimeError unless 2xx)."""
        data = orjson.dumps(body)
        self.sock.sendall(b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
                          % (path.encode(), self.headers, len(data), data))
        return orjson.loads(self._answer(path))

    def get(self, path: str) -> bytes:
        """GET ``path``; the answer's body, undecoded (RuntimeError unless 2xx)."""
        self.sock.sendall(b"GET %s HTTP/1.1\r\n%s\r\n" % (path.encode(), self.headers))
        return self._answer(path)

    def _answer(self, path: str) -> bytes:
        while b"\r\n\r\n" not in self.pending:
            self.pending += self._receive()
        head, _, rest = self.pending.partition(b"\r\n\r\n")
        status, length = int(head[9:12]), self._content_length(head)
        while len(rest) < length:
            rest += self._receive()
        answer, self.pending = rest[:length], rest[length:]
        if status >= 300:
            raise RuntimeError(f"{path}: {status} {answer[:300]!r}")
        return answer

    def _receive(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        return chunk

    @staticmethod
    def _content_length(head: bytes) -> int:
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return int(value)
        raise RuntimeError(f"no Content-Length in {head[:300]!r}")

    def one_process(self, n: int) -> float:
        """Start, complete its task; return the completion latency in seconds."""
        started = self.post("/api/instances", {"definition": DEFINITION["id"], "payload": {"n": n}})
        task_id = started["openTasks"][0]["id"]
        begun = time.perf_counter()
        done = self.post(f"/api/tasks/{task_id}/complete", {"outcome": "approve"})
        latency = time.perf_counter() - begun
        assert done["status"] == "completed"
        return latency


def run_threads(worker: Callable[[int], None], count: int) -> float:
    """Run ``worker(i)`` in ``count`` threads at once; return the seconds until all finished."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def drive(port: int, clients: int, seconds: float) -> tuple[int, float, list[list[float]]]:
    """Run processes from ``clients`` threads for ``seconds``; return count, elapsed, each client's latencies."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + seconds
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        client, n = Client(port), 0
        try:
            while time.perf_counter() < stop:
                latencies[i].append(client.one_process(n))
                n += 1
        except BaseException as exc:  # report, do not hang the benchmark
            errors.append(exc)

    elapsed = run_threads(worker, clients)
    if errors:
        raise errors[0]
    return sum(len(per_client) for per_client in latencies), elapsed, latencies


def ceiling(url: str, clients: int, seconds: float) -> float:
    """Single-row version-checked UPDATE + INSERT transactions per second, ``clients`` connections."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_row (id int primary key, version int not null)")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_log (id bigserial primary key, row_id int, version int,"
                     " at timestamptz default now(), note jsonb)")
        conn.execute("TRUNCATE bench_row, bench_log")
        conn.execute("INSERT INTO bench_row SELECT g, 0 FROM generate_series(0, 63) g")
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with psycopg.connect(url) as conn:
            version = 0
            while time.perf_counter() < stop:
                with conn.transaction():
                    updated = conn.execute("UPDATE bench_row SET version = %s WHERE id = %s AND version = %s",
                                           (version + 1, i, version)).rowcount
                    assert updated == 1
                    conn.execute("INSERT INTO bench_log (row_id, version, note) VALUES (%s, %s, %s)",
                                 (i, version + 1, json.dumps({"v": version})))
                version += 1
                counts[i] += 1

    elapsed = run_threads(worker, clients)
    return sum(counts) / elapsed


def runtime_cpu(url: str, count: int = 500) -> tuple[float, float]:
    """CPU milliseconds per start_instance and per complete_task, in-process, without HTTP.

    Steadier than throughput on a shared machine, so it is the figure to
    watch when optimising the runtime itself.
    """
    from bpm.engine import SystemClock
    from bpm.runtime import Runtime
    from bpm.runtime.instances import start_instance
    from bpm.runtime.tasks import complete_task

    rt = Runtime.build(Settings(database_url=url), SystemClock())
    actor = rt.actor(USER)

    def start(n: int) -> str:
        return start_instance(rt, actor, DEFINITION["id"], {"n": n})[1].created_tasks[0].id

    for task_id in [start(n) for n in range(50)]:  # warm up caches and prepared statements
        complete_task(rt, actor, task_id, "approve", {})
    began = time.process_time()
    task_ids = [start(n) for n in range(count)]
    started = time.process_time()
    for task_id in task_ids:
        complete_task(rt, actor, task_id, "approve", {})
    finished = time.process_time()
    rt.close()
    return (started - began) / count * 1000, (finished - started) / count * 1000


@dataclass(frozen=True)
class Measured:
    """One load level of the real server: its ``Level``, the completion latencies and the load client's CPU."""

    level: Level
    count: int
    elapsed: float
    latencies: list[list[float]]  # each client's, in seconds
    client_ms: float

    @cached_property
    def _cuts(self) -> list[float]:
        return statistics.quantiles([x for per in self.latencies for x in per], n=100)

    def percentile_ms(self, percent: int) -> float:
        """The completion latency at ``percent`` over all clients, in milliseconds."""
        return self._cuts[percent - 1] * 1000


def measure_level(server_pid: int, port: int, clients: int, seconds: float) -> Measured:
    """Drive the server from ``clients`` for ``seconds``, reading the CPU each side spent meanwhile."""
    (server_before, database_before), client_before = cpu_by_side(server_pid), time.process_time()
    count, elapsed, latencies = drive(port, clients, seconds)
    (server_after, database_after), client_after = cpu_by_side(server_pid), time.process_time()
    return Measured(Level(count / elapsed, (server_after - server_before) / count * 1000,
                          (database_after - database_before) / count * 1000),
                    count, elapsed, latencies, (client_after - client_before) / count * 1000)


def load_levels(server_pid: int, args: argparse.Namespace) -> dict[int, Level]:
    """Drive the server at each number of clients; print and return each level by clients."""
    rates: dict[int, Level] = {}
    drive(args.port, 2, 1.0)  # warm up: engine cache, connection pools
    for clients in args.clients:
        measured = measure_level(server_pid, args.port, clients, args.seconds)
        rates[clients] = level = measured.level
        medians = [statistics.median(latencies) * 1000 for latencies in measured.latencies if latencies]
        print(f"{clients:>2} clients: {level.rate:7.1f} approval processes/s   "
              f"task completion p50 {measured.percentile_ms(50):6.1f} ms  p95 {measured.percentile_ms(95):6.1f} ms"
              f"   ({measured.count} processes in {measured.elapsed:.1f} s)")
        # Each keep-alive connection stays with the worker that accepted it: an uneven split of the
        # clients over the workers shows here, and widens the p95.
        print(f"   per-client median latency {min(medians):.1f}-{max(medians):.1f} ms")
        print(f"   CPU per process: server {level.server_ms:.2f} ms, PostgreSQL {level.database_ms:.2f} ms, "
              f"load client {measured.client_ms:.2f} ms")
    return rates


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load level")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    defaults = Settings()
    parser.add_argument("--workers", type=int, default=defaults.workers, help="server worker processes")
    parser.add_argument("--threads", type=int, default=defaults.threads, help="request threads per worker")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--no-floor", action="store_true", help="skip the bare-stack floor (bench.http_floor)")
    parser.add_argument("--pgbouncer", action="store_true",
                        help="also through PgBouncer in transaction mode (BPM_DATABASE_POOLER=transaction)")
    parser.add_argument("--against", metavar="REV",
                        help="before/after instead: this tree and git revision REV in turn (bench.against)")
    parser.add_argument("--rounds", type=int, default=3, help="with --against: rounds, each side once a round")
    args = parser.parse_args()
    if args.against:
        from bench.against import compare

        compare(args)
        return
    print("machine reference (pure Python, bench.engine):", end=" ")
    bench_chain(1.0)
    with scratch_database() as url:
        prepare(url)
        start_ms, complete_ms = runtime_cpu(url)
        print(f"runtime CPU per action (in-process, no HTTP): start_instance {start_ms:.2f} ms, "
              f"complete_task {complete_ms:.2f} ms")
        for clients in (4, 16):
            print(f"ceiling: version-checked UPDATE+INSERT, {clients:>2} clients: "
                  f"{ceiling(url, clients, min(args.seconds, 5)):,.0f} tx/s")
        with server(url, args.port, args.workers, args.threads) as server_pid:
            print(f"server: bpm serve (granian), {args.workers} workers x {args.threads} threads, PostgreSQL")
            rates = load_levels(server_pid, args)
        if args.pgbouncer:
            from bench.pgbouncer import pgbouncer

            with pgbouncer(url, pool_size=args.workers * args.threads) as pooled_url, \
                    server(pooled_url, args.port, args.workers, args.threads, pooler="transaction") as server_pid:
                print(f"server: the same, through PgBouncer in transaction mode "
                      f"({args.workers * args.threads} server connections, nothing PREPAREd)")
                pooled = load_levels(server_pid, args)
            for clients, level in pooled.items():
                print(f"through PgBouncer, {clients:>2} clients: {level.rate / rates[clients].rate:.0%} of straight "
                      "to PostgreSQL")

    if args.no_floor:
        return
    from bench.http_floor import floor_rates  # the floor imports this module's client

    for clients, floor in floor_rates(args.clients, args.seconds, args.port + 1, args.workers, args.threads).items():
        ours = rates[clients]
        print(f"floor (bare Flask + hand-written SQL, same server and client), {clients:>2} clients: "
              f"{floor.rate:7.1f} processes/s; bpm serve reaches {ours.rate / floor.rate:.0%} of it")
        print(f"   CPU per process: floor server {floor.server_ms:.2f} ms, PostgreSQL {floor.database_ms:.2f} ms; "
              f"bpm serve spends {ours.server_ms - floor.server_ms:+.2f} ms in its server and "
              f"{ours.database_ms - floor.database_ms:+.2f} ms in PostgreSQL beyond them")


if __name__ == "__main__":
    main()
