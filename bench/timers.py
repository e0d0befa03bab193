"""Timers at volume: ``python -m bench.timers`` prints fire lag, throughput, duplicates and mail delivery.

On a scratch PostgreSQL database it starts ``--timers`` instances (default
10,000) of a process that waits on a timer and then mails its requester;
their timers fall due spread over one minute, starting a little after the
instances exist. Two ``bpm worker`` processes (real processes, the real
clock) fire them and deliver the mails to an SMTP server on loopback
(aiosmtpd). Lag is when a job was fired minus when it was due, read from
the ``job`` table; a duplicate is an instance whose timer fired twice.

Then, the workers still running, it starts ``--wake`` instances one by one
whose timer is due at once, and prints how long after each start's commit
its timer fired: the workers sleep until the next due time and are woken by
PostgreSQL's NOTIFY (bpm.scheduler.wakeup), so this is the wake-up's latency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time

import psycopg

from bench.service import scratch_database
from bpm.config import Settings

WAITS = {"id": "bench-wait", "name": "Bench wait", "nodes": [
    {"id": "s", "type": "start"},
    {"id": "t", "type": "timer", "data": {"until": "{{ s.last.data.at }}"}},
    {"id": "tell", "type": "notify", "data": {"channel": "email", "to": "ann", "subject": "Your wait is over",
                                              "body": "The timer fired."}},
    {"id": "e", "type": "end"}],
    "edges": [{"id": "a", "source": "s", "target": "t"}, {"id": "b", "source": "t", "target": "tell"},
              {"id": "c", "source": "tell", "target": "e"}]}


def fill(url: str, timers: int, lead: float, spread: float) -> dt.datetime:
    """Start the instances; their timers fall due from ``lead`` seconds after this returns, over ``spread``."""
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.definitions import import_definition
    from bpm.runtime.demo import load_demo
    from bpm.runtime.instances import start_instance
    from bpm.store.migrate import upgrade

    upgrade(url)
    rt = Runtime.build(Settings(database_url=url), SystemClock())
    load_demo(rt)
    import_definition(rt, SYSTEM_ACTOR, WAITS)
    estimate = timers * 0.004  # seconds to start them, measured on this machine: due times start after that
    first_due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=estimate + lead)
    for n in range(timers):
        at = first_due + dt.timedelta(seconds=spread * n / timers)
        start_instance(rt, SYSTEM_ACTOR, "bench-wait", {"at": at.isoformat().replace("+00:00", "Z")})
    rt.close()
    late = (dt.datetime.now(dt.UTC) - first_due).total_seconds()
    if late > 0:
        print(f"(starting took {late:.1f} s longer than planned: the first timers were due before the workers ran)")
    return first_due


def main() -> None:
    """Fill, run two workers, measure, print."""
    from tests.mail_server import MailServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the timers fall due")
    parser.add_argument("--interval", type=float, default=0.25, help="each worker's tick, when polling")
    parser.add_argument("--wake", type=int, default=200, help="timers due at once, started one by one")
    args = parser.parse_args()

    smtp = MailServer().start()
    with scratch_database() as url:
        began = time.perf_counter()
        first_due = fill(url, args.timers, lead=5.0, spread=args.spread)
        print(f"filled: {args.timers:,} timers due over {args.spread:.0f} s, started in "
              f"{time.perf_counter() - began:.0f} s")
        env = {**os.environ, "BPM_DATABASE_URL": url, "BPM_LOG_LEVEL": "WARNING", "BPM_SMTP_HOST": "127.0.0.1",
               "BPM_SMTP_PORT": str(smtp.port), "BPM_SMTP_STARTTLS": "0"}
        workers = [subprocess.Popen([sys.executable, "-m", "bpm.cli", "worker", "--interval", str(args.interval)],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
                   for _ in range(args.workers)]
        deadline = time.monotonic() + args.spread + 600
        try:
            with psycopg.connect(url) as conn:
                while time.monotonic() < deadline:
                    fired = conn.execute("SELECT count(*) FROM job WHERE kind = 'timer' AND status = 'done'"
                                         ).fetchone()[0]
                    if fired >= args.timers and len(smtp.messages) >= args.timers:
                        break
                    time.sleep(0.5)
                lags = [row[0] for row in conn.execute(
                    "SELECT EXTRACT(EPOCH FROM fired_at - due_at) FROM job WHERE kind = 'timer' AND status = 'done'")]
                per_instance = conn.execute("SELECT count(*) FROM history_entry WHERE cause = 'timer_fired' "
                                            "GROUP BY instance_id").fetchall()
                span = conn.execute("SELECT EXTRACT(EPOCH FROM max(fired_at) - min(fired_at)) FROM job "
                                    "WHERE kind = 'timer'").fetchone()[0]
                sent = conn.execute("SELECT EXTRACT(EPOCH FROM max(sent_at) - min(sent_at)), count(*) FROM "
                                    "outbox_message WHERE kind = 'notify' AND status = 'sent'").fetchone()
            mails = len(smtp.messages)  # (the timers' own, before the wake-up timers add theirs)
            wakes = wake_latencies(url, args.wake) if args.wake else []
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
    smtp.stop()
    cuts = statistics.quantiles([float(lag) for lag in lags], n=100) if len(lags) > 1 else [0.0] * 99
    duplicates = sum(1 for (count,) in per_instance if count > 1)
    missed = args.timers - len(per_instance)
    print(f"workers: {args.workers}, woken by PostgreSQL; first due {first_due:%H:%M:%S} UTC")
    print(f"fire lag                p50 {cuts[49]:6.2f} s   p99 {cuts[98]:6.2f} s   max {max(lags):6.2f} s")
    print(f"timers fired            {len(lags):,} in {float(span or 0):.1f} s "
          f"({len(lags) / max(float(span or 1), 1e-3):,.0f}/s while due)")
    print(f"duplicates              {duplicates}")
    print(f"misses                  {missed}")
    seconds, marked = float(sent[0] or 0), int(sent[1])
    print(f"e-mails delivered       {mails:,} ({marked:,} marked sent) in {seconds:.1f} s "
          f"({marked / max(seconds, 1e-3):,.0f}/s)")
    if len(wakes) > 1:
        wake_cuts = statistics.quantiles(wakes, n=100)
        print(f"due at once, fired      p50 {wake_cuts[49] * 1000:6.0f} ms  p95 {wake_cuts[94] * 1000:6.0f} ms  "
              f"max {max(wakes) * 1000:6.0f} ms after its start committed ({len(wakes)} timers)")


def wake_latencies(url: str, count: int) -> list[float]:
    """Start ``count`` instances one at a time whose timer is due at once; seconds from each commit to its firing."""
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.instances import start_instance

    rt = Runtime.build(Settings(database_url=url), SystemClock())
    ids = []
    for _ in range(count):
        ids.append(start_instance(rt, SYSTEM_ACTOR, "bench-wait", {"at": "2019-06-01T09:00:00Z"})[0].id)
        time.sleep(0.02)  # one at a time: each wakes the workers on its own
    rt.close()
    with psycopg.connect(url) as conn:
        done = "SELECT count(*) FROM job WHERE instance_id = ANY(%s) AND status = 'done'"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and conn.execute(done, (ids,)).fetchone()[0] < count:
            time.sleep(0.2)
        return [float(row[0]) for row in conn.execute(
            "SELECT EXTRACT(EPOCH FROM fired_at - created_at) FROM job WHERE instance_id = ANY(%s) "
            "AND status = 'done'", (ids,))]


if __name__ == "__main__":
    main()
