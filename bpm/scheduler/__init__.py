"""The worker: it fires due jobs through the runtime (``bpm.runtime.jobs``) and delivers the outbox (``bpm.notify``).

APScheduler (3.x) is only the clock: an in-memory interval job calls
``Worker.tick`` every ``interval`` seconds, never two at once, and a tick
missed while the process was busy or asleep is run once, not once per miss
(``coalesce``). The durable state — what is due, who holds it, what failed —
lives in our own ``job`` table, so APScheduler's job stores are never used
and several workers can run against one PostgreSQL. A tick takes batches
until nothing due is left, renewing the leases of a batch it is still
working through.

``bpm worker`` runs one in its own process; ``bpm run`` embeds one in a
background thread for the single-process default; the web workers of
``bpm serve`` never run one. On SQLite run a single worker (SQLite has one
writer at a time; it is correct with more, only slower).
"""

from __future__ import annotations

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

logger = logging.getLogger(__name__)

BATCH = 100
INTERVAL_SECONDS = 1.0
MAX_ROUNDS = 50  # batches per tick at most: the next tick takes the rest
DIGEST_CHECK_SECONDS = 60


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
                renewed_at = time.monotonic()
                for index, job in enumerate(claimed):
                    said[jobs.fire(self.rt, job, self.name)] += 1
                    if time.monotonic() - renewed_at > self.lease.total_seconds() / 3:
                        jobs.renew(self.rt, self.name, [j.id for j in claimed[index + 1:]], self.lease)
                        renewed_at = time.monotonic()
            return said
        finally:
            self._ticking.release()

    def deliver(self) -> Counter[str]:
        """Deliver the outbox's ready messages and, once a day, the digests (``bpm.notify.deliver``)."""
        from bpm.notify import deliver

        said: Counter[str] = Counter()
        for _ in range(MAX_ROUNDS):
            done = deliver.deliver_due(self.rt, self.name, self.batch)
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

    def run(self, interval: float = INTERVAL_SECONDS) -> None:
        """Tick until the process is stopped (``bpm worker``)."""
        from apscheduler.schedulers.blocking import BlockingScheduler

        logger.info("worker %s: ticking every %.1f s", self.name, interval)
        scheduler = self._scheduler(BlockingScheduler, interval)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)

    def start(self, interval: float = INTERVAL_SECONDS) -> Any:
        """Tick in a background thread (``bpm run``); returns the scheduler, to ``shutdown()`` it."""
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = self._scheduler(BackgroundScheduler, interval)
        scheduler.start()
        return scheduler


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)
