"""A streaming replica for the heavy reads (``BPM_DATABASE_REPLICA_URL``), used only when it can answer rightly.

Inbox lists, My requests, the audit search and exports (``streaming``), the admin lists:
reads that scan, which a replica can take off the primary. A replica lags
the primary by the time it takes to replay what was committed, so a person
who has just acted could read a list without their own change. So each
person's last write is remembered as the primary's WAL position after it
(``note_write``: in the process, and in the browser's session), and their
heavy reads go to the replica only once it has replayed that far — never to
a replica behind what they wrote; everyone else's go there at once. A
position, not a time: a lag of a minute after a burst of writes cannot
show anyone stale data of their own, and a replica that keeps up costs them
nothing. (The bounded-time alternative — "the primary for five seconds after
a write" — is wrong as soon as the lag exceeds its bound.)

A replica that does not answer is left alone for ``DOWN_SECONDS``: its reads
go to the primary, and a read that failed on it is read again there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bpm.store.db import make_engine, make_session_factory
from bpm.store.uow import UnitOfWork

logger = logging.getLogger(__name__)
T = TypeVar("T")
DOWN_SECONDS = 10.0
FRESH_SECONDS = 0.05  # how long a reading of the replica's replay position is reused
REMEMBERED = 10_000  # people whose last write position a process keeps


def lsn(text_lsn: str | None) -> int:
    """PostgreSQL's ``X/Y`` WAL position as a number (0 for none)."""
    if not text_lsn:
        return 0
    high, _, low = text_lsn.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class Replica:
    """The replica's connections, how far it has replayed, and each person's last write on the primary."""

    def __init__(self, url: str, pool_size: int, idle_ping_seconds: float, prepares: bool = True) -> None:
        self.db = make_engine(url, pool_size, idle_ping_seconds)
        self._sessions = make_session_factory(self.db)
        self._prepares = prepares
        self._lock = threading.Lock()
        self._replayed, self._replayed_at = 0, 0.0
        self._down_until = 0.0
        self._written: OrderedDict[str, int] = OrderedDict()
        self.reads = {"replica": 0, "primary": 0}  # where heavy reads went (for tests and the operator)

    def note_write(self, person: str, position: int) -> None:
        """``person`` wrote; the primary's WAL was at ``position`` after it."""
        with self._lock:
            self._written[person] = max(position, self._written.pop(person, 0))
            while len(self._written) > REMEMBERED:
                self._written.popitem(last=False)

    def written(self, person: str) -> int:
        with self._lock:
            return self._written.get(person, 0)

    def can_serve(self, position: int) -> bool:
        """Whether the replica is up and has replayed WAL up to ``position`` (asked at most every FRESH_SECONDS:
        a replay position only grows, so one far enough once stays so)."""
        now = time.monotonic()
        if now < self._down_until:
            return False
        if position <= self._replayed:
            return True
        if now - self._replayed_at < FRESH_SECONDS:
            return False  # looked a moment ago: still behind
        try:
            with self.db.connect() as connection:
                replayed = lsn(connection.execute(text("SELECT pg_last_wal_replay_lsn()::text")).scalar())
        except DBAPIError as error:
            self.went_away(error)
            return False
        with self._lock:
            self._replayed, self._replayed_at = max(replayed, self._replayed), now
        return position <= self._replayed

    def went_away(self, error: BaseException) -> None:
        logger.warning("the read replica did not answer (%s): reads go to the primary for %.0f s",
                       str(error).splitlines()[0] if str(error) else type(error).__name__, DOWN_SECONDS)
        self._down_until = time.monotonic() + DOWN_SECONDS

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self._sessions, prepares=self._prepares)

    def read(self, person: str | None, work: Callable[[UnitOfWork], T], primary: Callable[[], UnitOfWork]) -> T:
        """``work`` on the replica if it has replayed ``person``'s last write, else (or if it fails) on the
        primary."""
        if self.can_serve(self.written(person) if person else 0):
            try:
                with self.uow() as uow:
                    result = work(uow)
                self.reads["replica"] += 1
                return result
            except DBAPIError as error:
                if not error.connection_invalidated and not _unavailable(error):
                    raise
                self.went_away(error)
        with primary() as uow:
            result = work(uow)
        self.reads["primary"] += 1
        return result

    @contextmanager
    def streaming(self, person: str | None, primary: Callable[[], UnitOfWork]) -> Iterator[UnitOfWork]:
        """A unit for a read that streams (an export): on the replica if it has replayed ``person``'s last write
        and answers, else on the primary. Chosen once, at the start: what was streamed cannot be read again
        elsewhere halfway, so a replica lost mid-stream fails that read (as the primary going would)."""
        with ExitStack() as stack:
            uow = None
            if self.can_serve(self.written(person) if person else 0):
                try:
                    uow = stack.enter_context(self.uow())
                    uow.connection.execute(text("SELECT 1"))
                    self.reads["replica"] += 1
                except DBAPIError as error:
                    if not error.connection_invalidated and not _unavailable(error):
                        raise
                    self.went_away(error)
                    stack.close()
                    uow = None
            if uow is None:
                uow = stack.enter_context(primary())
                self.reads["primary"] += 1
            yield uow

    def close(self) -> None:
        self.db.dispose()


def _unavailable(error: DBAPIError) -> bool:
    """The replica itself failed (gone, shutting down, recovery conflict), not the read."""
    state = getattr(error.orig, "sqlstate", None) or ""
    return state.startswith(("08", "57", "40001")) or "connection" in str(error).lower()


def primary_position(uow: UnitOfWork) -> int:
    """The primary's current WAL position (after a commit: at or past it)."""
    return lsn(uow.connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar())
