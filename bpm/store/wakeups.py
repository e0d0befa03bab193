"""Wake-ups for workers: a unit that commits work due soon says so on PostgreSQL's ``NOTIFY`` channel.

A worker sleeps until the earliest due time it knows of, at most ``HORIZON``
(its safety net). Something due sooner than that, committed by a server or
another worker — a timer due now, a message to send — must wake it, or it
would wait for its next look: so the unit that queues such a row queues a
``pg_notify`` with it, which PostgreSQL delivers at commit (not at all on
rollback) to every listening worker (``bpm.scheduler.wakeup``). The payload
is the kind and the due time, so a worker that will look sooner anyway need
not. SQLite has no such channel: its single worker looks every interval.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import NamedTuple

import psycopg
from sqlalchemy import bindparam, func, select

from bpm.store.db import normalise_url
from bpm.store.direct import DirectStatement

logger = logging.getLogger(__name__)
RECONNECT_SECONDS = 2.0

CHANNEL = "bpm_due"
HORIZON = dt.timedelta(seconds=60)  # a listening worker looks at least this often, notified or not
JOB, OUTBOX = "job", "outbox"
NOTIFY = DirectStatement(select(func.pg_notify(bindparam("channel"), bindparam("payload"))))


class WakeUp(NamedTuple):
    """What a notification says: work of ``kind`` is due at ``due``."""

    kind: str
    due: dt.datetime


def payload(kind: str, due: dt.datetime) -> str:
    return f"{kind} {round(due.timestamp() * 1000)}"


def parse(text: str) -> WakeUp | None:
    """A notification's payload, or None if it is not one of ours (someone else may NOTIFY the channel)."""
    kind, _, ms = text.partition(" ")
    if kind not in (JOB, OUTBOX) or not ms.isdigit():
        return None
    return WakeUp(kind, dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC))


class Listener:
    """LISTENs on its own connection and hands every wake-up to ``heard``; reconnects when the database goes."""

    def __init__(self, url: str, heard: Callable[[WakeUp | None], None]) -> None:
        self._url = normalise_url(url).replace("postgresql+psycopg://", "postgresql://", 1)
        self._heard = heard
        self.listening = threading.Event()  # set while LISTENing (tests wait for it)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._heard(None)  # what was committed while nobody listened is due now
                    self.listening.set()
                    while not stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            wakeup = parse(note.payload)
                            if wakeup is not None:
                                self._heard(wakeup)
            except psycopg.Error as error:
                self.listening.clear()
                logger.warning("worker: listening for wake-ups failed (%s); again in %.0f s, looking every "
                               "%s meanwhile", error, RECONNECT_SECONDS, HORIZON)
                stop.wait(RECONNECT_SECONDS)
        self.listening.clear()
