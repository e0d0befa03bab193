"""The worker: it fires due jobs through the runtime (``bpm.runtime.jobs``) and delivers the outbox (``bpm.notify``).

APScheduler (3.x) is only the clock: an in-memory interval job calls
``Worker.tick`` every ``interval`` seconds, never two at once, and a tick
missed while the process was busy or asleep is run once, not once per miss
(``coalesce``). The durable state — what is due, who holds it, what failed —
lives in our own ``job`` table, so APScheduler's job stores are never used
and several workers can run against one PostgreSQL. A tick takes batches
until nothing due is left, renewing the leases of a batch it is still
working through.

On PostgreSQL a worker does not poll: it LISTENs for the wake-ups that
commits send and sleeps until the next due time it knows of, at most a minute
(``bpm.scheduler.wakeup``); APScheduler's interval ticks are the way on SQLite,
or behind a transaction pooler with no direct URL to listen on.

``bpm worker`` runs one in its own process; ``bpm run`` embeds one in a
background thread for the single-process default; the web workers of
``bpm serve`` never run one. On SQLite run a single worker (SQLite has one
writer at a time; it is correct with more, only slower).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from typing import Any

from bpm.runtime import jobs
from bpm.runtime.runtime import Runtime
from bpm.scheduler.wakeup import WokenLoop
from bpm.store import partitions, wakeups
from bpm.store.wakeups import Listener

logger = logging.getLogger(__name__)

BATCH = 100
INTERVAL_SECONDS = 1.0
MAX_ROUNDS = 50  # batches per tick at most: the next tick takes the rest
DIGEST_CHECK_SECONDS = 60
MAIL_YIELDS_SECONDS = 2.0  # how long a round of mail waits at most for a backlog of due jobs
RETRY_SECONDS = 5  # woken mode: how soon to look again when the database did not answer
PARTITIONS_CHECK_SECONDS = 3600  # PostgreSQL: how often to make the months ahead (bpm.store.partitions)


def worker_name() -> str:
    """Who holds a claimed job: host, process and a random part (two workers in one process differ)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Fires what is due, batch after batch, each job once (``bpm.runtime.jobs`` says how)."""

    def __init__(self, rt: Runtime, name: str | None = None, batch: int = BATCH,
                 lease: Any = jobs.LEASE) -> None:
        self.rt, self.name, self.batch, self.lease = rt, name or worker_name(), batch, lease
        self._ticking = threading.Lock()
        self._digests_checked_at: Any = None
        self._anchored_at: Any = None
        self._purged_at: Any = None
        self._partitioned_at: Any = None
        self._firing_idle = threading.Event()  # cleared while a tick works off a backlog of due jobs
        self._firing_idle.set()
        self._senders: Any = None  # the SMTP connections, kept between rounds while running (``keep_connections``)

    def keep_connections(self) -> None:
        """Keep the mail threads and their SMTP connections from one delivery round to the next (a running worker;
        a single ``deliver()``, as a test or ``--once`` makes, opens and closes its own)."""
        from bpm.notify.mail import Senders

        if self._senders is None:
            self._senders = Senders(self.rt.settings)

    def tick(self) -> Counter[str]:
        """Fire every job due now; how many fired, were moot, failed... (a tick already running is not doubled)."""
        said: Counter[str] = Counter()
        if not self._ticking.acquire(blocking=False):
            return said
        try:
            for _ in range(MAX_ROUNDS):  # what a round fires may be due at once (a long run's continuation)
                claimed = jobs.claim_due(self.rt, self.name, self.batch, self.lease)
                if not claimed:
                    break
                if len(claimed) == self.batch:  # a backlog: mail waits (``deliver``) while timers are late
                    self._firing_idle.clear()
                renewed_at = time.monotonic()
                for index, job in enumerate(claimed):
                    said[jobs.fire(self.rt, job, self.name)] += 1
                    if time.monotonic() - renewed_at > self.lease.total_seconds() / 3:
                        jobs.renew(self.rt, self.name, [j.id for j in claimed[index + 1:]], self.lease)
                        renewed_at = time.monotonic()
            return said
        finally:
            self._firing_idle.set()
            self._ticking.release()

    def deliver(self) -> Counter[str]:
        """Deliver the outbox's ready messages and, once a day, the digests (``bpm.notify.deliver``)."""
        from bpm.notify import deliver

        said: Counter[str] = Counter()
        for _ in range(MAX_ROUNDS):
            # Timers, escalations and retries are promises about time; a notice a few seconds late is not: while
            # this worker works off a backlog of due jobs, a round of mail waits for it, a bounded while.
            self._firing_idle.wait(MAIL_YIELDS_SECONDS)
            done = deliver.deliver_due(self.rt, self.name, self.batch, senders=self._senders)
            said.update(done)
            if sum(done.values()) < self.batch:
                break
        now = self.rt.now()
        if self._digests_checked_at is None or (now - self._digests_checked_at).total_seconds() >= DIGEST_CHECK_SECONDS:
            self._digests_checked_at = now  # who wants a digest is read once a minute, not every tick
            said["digests"] += deliver.send_digests(self.rt)
        minutes = self.rt.settings.audit_anchor_minutes
        if self.rt.settings.audit_signing_key and (
                self._anchored_at is None or (now - self._anchored_at).total_seconds() >= minutes * 60):
            from bpm.runtime.anchors import make_anchor

            self._anchored_at = now
            said["anchors"] += make_anchor(self.rt) is not None
        if self.rt.settings.audit_anchor_webhook:
            from bpm.notify.anchors import ship

            said["anchors shipped"] += ship(self.rt)
        every = self.rt.settings.retention_minutes * 60  # 0: retention runs from cron (docs/audit.md)
        if every and (self._purged_at is None or (now - self._purged_at).total_seconds() >= every):
            from bpm.runtime.retention import RETENTION_ACTOR, purge

            self._purged_at = now
            said["purged"] += len(purge(self.rt, RETENTION_ACTOR, limit=self.batch))
        since = None if self._partitioned_at is None else (now - self._partitioned_at).total_seconds()
        if self.rt.db.dialect.name == "postgresql" and (since is None or since >= PARTITIONS_CHECK_SECONDS):
            self._partitioned_at = now
            said["partitions made"] += len(partitions.make_months(self.rt.db, now.date()).made)
        return +said

    def _safely(self, step: Any) -> None:
        try:
            said = step()
        except Exception:  # the database or mail server may be away for a moment: the next tick tries again
            logger.exception("worker %s: %s failed", self.name, step.__name__)
            return
        if said:
            logger.info("worker %s: %s", self.name, ", ".join(f"{n} {what}" for what, n in sorted(said.items())))

    def _scheduler(self, cls: Any, interval: float) -> Any:
        """Two interval jobs on their own threads: firing jobs never waits for a slow mail server."""
        if not logger.isEnabledFor(logging.DEBUG):  # APScheduler says "running job" every tick at INFO
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = cls(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                      "misfire_grace_time": None})
        for name, step in (("fire", self.tick), ("deliver", self.deliver)):
            scheduler.add_job(self._safely, "interval", args=[step], seconds=interval, id=f"bpm-worker-{name}",
                              next_run_time=_now())
        return scheduler

    def listen_url(self) -> str | None:
        """Where to LISTEN for wake-ups, or None to poll: PostgreSQL only, and not through a transaction pooler
        (a LISTEN belongs to one server connection, which the pooler hands to others between transactions)."""
        settings = self.rt.settings
        if self.rt.db.dialect.name != "postgresql":
            return None
        if settings.database_listen_url:
            return settings.database_listen_url
        if settings.database_pooler == "transaction":
            logger.warning("worker %s: a transaction pooler is in front and BPM_DATABASE_LISTEN_URL is not set: "
                           "polling instead of listening for wake-ups", self.name)
            return None
        return settings.database_url

    def _fire_step(self) -> dt.datetime | None:
        self._safely(self.tick)
        return self._next(jobs.next_due)

    def _deliver_step(self) -> dt.datetime | None:
        from bpm.notify import deliver

        self._safely(self.deliver)  # (its daily and hourly duties look at the clock each time: the horizon is enough)
        return self._next(deliver.next_due)

    def _next(self, next_due: Any) -> dt.datetime | None:
        try:
            due: dt.datetime | None = next_due(self.rt)
            return due
        except Exception:  # the database is away: look again soon
            logger.exception("worker %s: reading the next due time failed", self.name)
            return self.rt.now() + dt.timedelta(seconds=RETRY_SECONDS)

    def woken(self, url: str) -> Woken:
        """The two loops and their listener on ``url``, not yet started (``Woken.start``)."""
        firing = WokenLoop("fire", self._fire_step, self.rt.now)
        delivering = WokenLoop("deliver", self._deliver_step, self.rt.now)

        def heard(wakeup: wakeups.WakeUp | None) -> None:
            if wakeup is None or wakeup.kind == wakeups.JOB:
                firing.wake(wakeup.due if wakeup else None)
            if wakeup is None or wakeup.kind == wakeups.OUTBOX:
                delivering.wake(wakeup.due if wakeup else None)

        return Woken(self.name, Listener(url, heard), [firing, delivering])

    def run(self, interval: float = INTERVAL_SECONDS) -> None:
        """Work until the process is stopped (``bpm worker``): woken by PostgreSQL, else every ``interval``."""
        self.keep_connections()
        url = self.listen_url()
        if url is not None:
            logger.info("worker %s: woken by PostgreSQL, looking at least every %s", self.name, wakeups.HORIZON)
            running = self.woken(url).start()
            try:
                while running.alive():
                    running.stop.wait(1.0)
            except (KeyboardInterrupt, SystemExit):
                running.shutdown()
            return
        from apscheduler.schedulers.blocking import BlockingScheduler

        logger.info("worker %s: ticking every %.1f s", self.name, interval)
        scheduler = self._scheduler(BlockingScheduler, interval)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)

    def start(self, interval: float = INTERVAL_SECONDS) -> Any:
        """Work in background threads (``bpm run``); returns what to ``shutdown()``."""
        self.keep_connections()
        url = self.listen_url()
        if url is not None:
            return self.woken(url).start()
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = self._scheduler(BackgroundScheduler, interval)
        scheduler.start()
        return scheduler


class Woken:
    """A worker's loops and listener, each on a thread of its own."""

    def __init__(self, name: str, listener: Listener, loops: list[WokenLoop]) -> None:
        self.name, self.listener, self.loops = name, listener, loops
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Woken:
        for target, what in [(self.listener.run, "listen"), *((loop.run, loop.name) for loop in self.loops)]:
            thread = threading.Thread(target=target, args=(self.stop,), name=f"bpm-worker-{what}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def alive(self) -> bool:
        return not self.stop.is_set() and all(thread.is_alive() for thread in self._threads)

    def shutdown(self, wait: bool = True) -> None:
        """Stop after the current step (each loop looks at ``stop`` at least every second)."""
        self.stop.set()
        if wait:
            for thread in self._threads:
                thread.join(timeout=30)


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)
