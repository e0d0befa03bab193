"""Mail at volume: ``python -m bench.mail`` prints mails/s from the outbox to an SMTP server on loopback.

On a scratch PostgreSQL database it queues ``--messages`` e-mail notices
(default 5,000, each to one person who wants mail now) and lets ``--workers``
real ``bpm worker`` processes deliver them to an aiosmtpd server in this
process, which hangs up on every ``--drop-every``-th message of a connection
before accepting it (0: never), as servers that limit messages per connection
do. It prints mails/s (first to last marked sent), and checks that every
message arrived exactly once (by Message-ID) and that none is left unsent.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections import Counter

import psycopg
from sqlalchemy import text

from bench.service import scratch_database
from bpm.config import Settings


def fill(url: str, messages: int) -> None:
    """One instance and ``messages`` notices about it to ann, queued in one transaction."""
    from bpm.engine import SystemClock
    from bpm.runtime import SYSTEM_ACTOR, Runtime
    from bpm.runtime.demo import load_demo
    from bpm.runtime.instances import start_instance
    from bpm.store.migrate import upgrade

    upgrade(url)
    rt = Runtime.build(Settings(database_url=url), SystemClock())
    load_demo(rt)
    instance, _ = start_instance(rt, SYSTEM_ACTOR, "expense-approval", {
        "requester": "ann", "manager": "bob", "amount": 10, "currency": "EUR", "description": "bench"})
    with rt.uow() as uow:
        uow.execute(text("DELETE FROM outbox_message"))  # (the start's own notice: only the bench's count)
        for n in range(messages):
            uow.outbox.add(str(uuid.uuid4()), instance.id, None, "email", ["ann"], f"Notice {n}",
                           f"Body of notice {n}.", None, rt.now())
        uow.commit()
    rt.close()


def main() -> None:
    """Fill, deliver with real workers, measure, check, print."""
    from tests.mail_server import MailServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=Settings().smtp_connections,
                        help="SMTP connections per worker (BPM_SMTP_CONNECTIONS)")
    parser.add_argument("--drop-every", type=int, default=10, help="the server hangs up on every n-th message of "
                                                                    "a connection (0: never)")
    args = parser.parse_args()
    smtp = MailServer(raw=True).start()
    smtp.drop_every = args.drop_every
    with scratch_database() as url:
        fill(url, args.messages)
        env = {**os.environ, "BPM_DATABASE_URL": url, "BPM_LOG_LEVEL": "ERROR", "BPM_SMTP_HOST": "127.0.0.1",
               "BPM_SMTP_PORT": str(smtp.port), "BPM_SMTP_STARTTLS": "0",
               "BPM_SMTP_CONNECTIONS": str(args.connections)}
        began = time.perf_counter()
        workers = [subprocess.Popen([sys.executable, "-m", "bpm.cli", "worker"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
                   for _ in range(args.workers)]
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    left = conn.execute("SELECT count(*) FROM outbox_message WHERE status <> 'sent'").fetchone()[0]
                    if left == 0:
                        break
                    time.sleep(0.25)
                elapsed = time.perf_counter() - began
                span, sent = conn.execute("SELECT EXTRACT(EPOCH FROM max(sent_at) - min(sent_at)), count(*) "
                                          "FROM outbox_message WHERE status = 'sent'").fetchone()
                statuses = dict(conn.execute("SELECT status, count(*) FROM outbox_message GROUP BY status").fetchall())
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
    smtp.stop()
    import email
    from email.policy import default

    copies = Counter(email.message_from_bytes(raw, policy=default)["Message-ID"] for raw in smtp.raw or [])
    hangs = f"hangs up on every {args.drop_every}th message of a connection" if args.drop_every else "never hangs up"
    print(f"workers: {args.workers} x {args.connections} SMTP connections; the server {hangs}")
    print(f"mails delivered         {len(smtp.raw or []):,} of {args.messages:,} in {float(span or 0):.1f} s "
          f"({int(sent) / max(float(span or 0), 1e-3):,.0f}/s first to last sent; {elapsed:.1f} s with start-up)")
    print(f"hang-ups                {smtp.dropped:,} (each message sent again on a new connection)")
    print(f"duplicates              {sum(1 for n in copies.values() if n > 1)}")
    print(f"lost                    {args.messages - len(copies)}   outbox: {statuses}")


if __name__ == "__main__":
    main()
