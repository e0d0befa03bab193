"""A load test people can trust: ``python -m bench.load`` runs a mixed workload for a fixed time and prints a table.

On a scratch PostgreSQL database filled with years of work (default 1,000,000
instances, 100,000 of their tasks open, 2,000 people in 50 groups: the rows of
bench.inbox, by COPY), two ``bpm serve`` processes and two ``bpm worker``
processes run while ``--users`` virtual people (threads with keep-alive
connections, alternately to either server) each loop through a working day:

- start an approval (offered to their team) and, every fifth time, a request that waits on a timer due
  ``--timer-seconds`` later, which a worker fires;
- a colleague of the team (four-eyes: not the one who asked) claims the approval's task and completes it;
- open the Group tasks page (HTML; their team is the biggest group, so the heaviest inbox) and My requests;
- every tenth time, as an auditor, search the audit for a word of a reference.

It runs for ``--minutes`` (default 10) and prints, per action: count, rate,
p50/p95/p99 and errors (anything but the expected status: must be 0); the
timers' fire lag; the servers' and workers' memory after the warm-up, at
half time and at the end (growth must stay under 10 %; the second half's
growth tells a leak, which keeps growing, from a working set still filling,
which levels off); and PostgreSQL's biggest tables with their dead tuples.
docs/performance.md keeps the last run's figures and says how to read them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg

from bench.inbox import Company, fill
from bench.service import Client, prepare, run_threads, scratch_database, server
from bpm.config import Settings

TEAM = "group00"  # the biggest group of bench.inbox's company: the heaviest inbox
APPROVAL = {
    "id": "load-approval", "name": "Load approval",
    "nodes": [{"id": "ask", "type": "start"},
              {"id": "approve", "type": "human-task",
               "data": {"title": "Approve load {{ ask.last.data.n }}", "candidateGroups": [TEAM],
                        "outcomes": ["approve", "reject"]}},
              {"id": "done", "type": "end", "data": {"outcome": "approved"}}],
    "edges": [{"id": "e1", "source": "ask", "target": "approve"},
              {"id": "e2", "source": "approve", "target": "done", "sourceHandle": "approve"},
              {"id": "e3", "source": "approve", "target": "done", "sourceHandle": "reject"}],
}
WAIT = {
    "id": "load-wait", "name": "Load wait",
    "nodes": [{"id": "ask", "type": "start"},
              {"id": "wait", "type": "timer", "data": {"until": "{{ ask.last.data.at }}"}},
              {"id": "done", "type": "end"}],
    "edges": [{"id": "e1", "source": "ask", "target": "wait"}, {"id": "e2", "source": "wait", "target": "done"}],
}


class Recorder:
    """Latencies and errors per action, from every virtual person's thread."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()

    @contextmanager
    def timing(self, action: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        except Exception as error:  # counted and shown, never fatal to the run
            with self._lock:
                self.errors[action].append(str(error)[:200])
            return
        with self._lock:
            self.latencies[action].append(time.perf_counter() - began)


def working_day(ports: list[int], user: str, colleague: str, auditor: str, recorder: Recorder, stop: float,
                timer_seconds: float, seed: int) -> None:
    """One virtual person's loop until ``stop``; a colleague of the team decides what they ask for (four-eyes)."""
    rng = random.Random(seed)
    me = [Client(port, user) for port in ports]
    deciding = [Client(port, colleague) for port in ports]
    audit = [Client(port, auditor) for port in ports]
    n = 0
    while time.perf_counter() < stop:
        here, there = me[n % 2], deciding[(n + 1) % 2]  # started on one server, decided on the other
        task_id = None
        with recorder.timing("start an approval"):
            task_id = here.post("/api/instances", {"definition": APPROVAL["id"],
                                                   "payload": {"n": f"{user}-{n}"}})["openTasks"][0]["id"]
        if task_id is not None:
            with recorder.timing("claim its task"):
                there.post(f"/api/tasks/{task_id}/claim", {})
            with recorder.timing("complete it"):
                there.post(f"/api/tasks/{task_id}/complete", {"outcome": rng.choice(["approve", "reject"])})
        if n % 5 == 0:
            at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=timer_seconds)).isoformat().replace("+00:00", "Z")
            with recorder.timing("start a timer request"):
                here.post("/api/instances", {"definition": WAIT["id"], "payload": {"at": at}})
        with recorder.timing("page: Group tasks"):
            me[(n + 1) % 2].get("/inbox?view=group")
        with recorder.timing("page: My requests"):
            here.get("/requests")
        if n % 10 == 0:
            with recorder.timing("audit: search a word"):
                audit[n % 2].get(f"/api/audit/search?q=REQ-{rng.randint(1000, 99999)}&page_size=20")
        n += 1


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes and their children, in MB."""
    wanted, total = set(pids), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(entry.name) in wanted or int(fields.get("PPid", "0").strip()) in wanted:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


def seed_people(url: str, users: list[str], auditor: str) -> None:
    """The virtual people (members of the team) and an auditor, beside the company."""
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(url) as conn:
        with conn.cursor().copy("COPY bpm_user (username, display_name, roles, active, created_at) FROM STDIN") as cp:
            for user in users:
                cp.write_row((user, user.title(), '["employee"]', True, now))
            cp.write_row((auditor, "Auditor", '["auditor"]', True, now))
        with conn.cursor().copy("COPY membership (username, group_name) FROM STDIN") as cp:
            for user in users:
                cp.write_row((user, TEAM))


def publish(url: str) -> None:
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.definitions import import_definition

    rt = Runtime.build(Settings(database_url=url), SystemClock())
    for definition in (APPROVAL, WAIT):
        import_definition(rt, SYSTEM_ACTOR, definition)
    rt.close()


def report(recorder: Recorder, seconds: float) -> None:
    print(f"{'action':<26} {'count':>8} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for action in sorted(set(recorder.latencies) | set(recorder.errors)):
        times = sorted(recorder.latencies.get(action, []))
        cuts = statistics.quantiles(times, n=100) if len(times) > 1 else [times[0] if times else 0.0] * 99
        print(f"{action:<26} {len(times):>8,} {len(times) / seconds:>8.1f} {cuts[49] * 1000:>8.1f} "
              f"{cuts[94] * 1000:>8.1f} {cuts[98] * 1000:>8.1f} {len(recorder.errors.get(action, [])):>7}")
    for action, errors in recorder.errors.items():
        print(f"   {action}: {errors[0]}")


def database_report(url: str, started: dt.datetime) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        lags = [float(row[0]) for row in conn.execute(
            "SELECT EXTRACT(EPOCH FROM fired_at - due_at) FROM job WHERE kind = 'timer' AND status = 'done' "
            "AND created_at >= %s", (started,))]
        waiting = conn.execute("SELECT count(*) FROM job WHERE kind = 'timer' AND status = 'pending' "
                               "AND due_at < now()").fetchone()[0]
        if len(lags) > 1:
            cuts = statistics.quantiles(lags, n=100)
            print(f"timers fired: {len(lags):,}, fire lag p50 {cuts[49]:.2f} s  p99 {cuts[98]:.2f} s  "
                  f"max {max(lags):.2f} s; overdue and unfired at the end: {waiting}")
        unsent = conn.execute("SELECT count(*) FROM outbox_message WHERE status <> 'sent'").fetchone()[0]
        print(f"outbox: {unsent:,} messages not (yet) delivered at the end (no mail server: logged)")
        print(f"{'table':<24} {'size MB':>9} {'live rows':>11} {'dead rows':>10}")
        for name, size, live, dead in conn.execute(
                "SELECT relname, pg_total_relation_size(relid) / 1048576.0, n_live_tup, n_dead_tup "
                "FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 10"):
            print(f"{name:<24} {float(size):>9.1f} {live:>11,} {dead:>10,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=1_000_000, help="filled instances (one task each)")
    parser.add_argument("--open", type=int, default=100_000, help="of which open tasks")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--users", type=int, default=16, help="virtual people at work at once")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--timer-seconds", type=float, default=5.0, help="how soon the timers fall due")
    # Two minutes: the workers' resident memory grows for about that long under this load (their delivery rounds
    # filling to their size) and then levels off; measured from one minute, that filling read as +6-12 % growth.
    parser.add_argument("--warm-up", type=float, default=120.0,
                        help="seconds of the same work first, not counted")
    parser.add_argument("--port", type=int, default=5111)
    args = parser.parse_args()
    users, auditor = [f"load{n:02d}" for n in range(args.users)], "load-auditor"
    company = Company(args.people, 50, random.Random(1))
    with scratch_database() as url:
        prepare(url)
        began = time.perf_counter()
        opened = fill(url, company, args.instances, args.open / args.instances, seed=2)
        seed_people(url, users, auditor)
        publish(url)
        print(f"filled: {args.instances:,} instances, {opened:,} open tasks, {args.people:,} people in "
              f"{time.perf_counter() - began:.0f} s")
        environment = {**os.environ, "BPM_DATABASE_URL": url, "BPM_LOG_LEVEL": "WARNING"}
        with ExitStack() as stack:
            ports = [args.port, args.port + 1]
            servers = [stack.enter_context(server(url, port, workers=1, threads=4)) for port in ports]
            workers = [subprocess.Popen([sys.executable, "-m", "bpm.cli", "worker"], env=environment,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT) for _ in range(2)]
            stack.callback(lambda: [(w.terminate(), w.wait(timeout=30)) for w in workers])
            warm = Recorder()  # the same work, not counted: caches, pools, plans
            _run(ports, users, auditor, warm, args.warm_up, args.timer_seconds)
            sides = {"servers": servers, "workers": [w.pid for w in workers]}
            memory = {what: [rss_mb(pids)] for what, pids in sides.items()}  # after warm-up, half time, end
            started = dt.datetime.now(dt.UTC)
            recorder = Recorder()
            half_time = threading.Timer(args.minutes * 30, lambda: [memory[what].append(rss_mb(pids))
                                                                    for what, pids in sides.items()])
            half_time.start()
            seconds = _run(ports, users, auditor, recorder, args.minutes * 60, args.timer_seconds)
            half_time.join()
            time.sleep(args.timer_seconds + 2)  # the last timers fall due and fire
            for what, pids in sides.items():
                memory[what].append(rss_mb(pids))
            print(f"\n{args.users} people for {seconds / 60:.1f} min through 2 servers (1 process x 4 threads each) "
                  f"and 2 workers, on {os.cpu_count()} CPUs\n")
            report(recorder, seconds)
            for what, (before, half, after) in memory.items():
                print(f"memory, {what}: {before:.0f} MB after warm-up, {half:.0f} MB at half time, {after:.0f} MB "
                      f"at the end ({(after - before) / before:+.1%}; second half {(after - half) / half:+.1%})")
        database_report(url, started)


def _run(ports: list[int], users: list[str], auditor: str, recorder: Recorder, seconds: float,
         timer_seconds: float) -> float:
    """Every virtual person at work for ``seconds``; the seconds it took."""
    stop = time.perf_counter() + seconds
    return run_threads(lambda n: working_day(ports, users[n], users[(n + 1) % len(users)], auditor, recorder, stop,
                                             timer_seconds, n), len(users))

if __name__ == "__main__":
    main()
