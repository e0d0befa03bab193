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
from typing import NamedTuple

from sqlalchemy import bindparam, func, select

from bpm.store.direct import DirectStatement

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
