"""A streaming replica for the heavy reads (``BPM_DATABASE_REPLICA_URL``), used only when it can answer rightly.

Inbox lists, My requests, the audit search and exports (``streaming``), the admin lists:
reads that scan, which a replica can take off the primary. A replica lags
the primary by the time it takes to replay what was committed, so a person
who has just acted could read a list without their own change. So each
person's last change is remembered as the primary's WAL position after it
(``record_write``, in ``read_position`` on the primary), and their heavy
reads go to the replica only once it has replayed that far — never to a
replica behind what they wrote; everyone else's go there at once. A
position, not a time: a lag of a minute after a burst of writes cannot
show anyone stale data of their own, and a replica that keeps up costs them
nothing. (The bounded-time alternative — "the primary for five seconds after
a write" — is wrong as soon as the lag exceeds its bound.) In the database,
not in the server process: behind a load balancer a person's next request
may reach any process, browsers and API clients alike. It costs a write per
change and a one-row read of the primary per heavy read, only with a replica.

A replica that does not answer is left alone for ``DOWN_SECONDS``: its reads
go to the primary, and a read that failed on it is read again there.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

import psycopg
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError

from bpm.store.db import make_engine, make_session_factory
from bpm.store.direct import DirectStatement
from bpm.store.models import ReadPosition
from bpm.store.uow import UnitOfWork

logger = logging.getLogger(__name__)
T = TypeVar("T")
DOWN_SECONDS = 10.0
FRESH_SECONDS = 0.05  # how long a reading of the replica's replay position is reused
_POSITIONS = ReadPosition.__table__  # type: ignore[attr-defined]

# The position is a hint: lost in a crash of the primary, it would cost its person one read of a replica behind
# their change, so its commit does not wait for the WAL to reach the disk (``synchronous_commit`` off for this
# statement's own transaction: a setting local to it is still in force when it commits).
_RECORD_WRITE = DirectStatement(text(
    "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO read_position (username, wal_position, written_at) "
    "SELECT CAST(:username AS varchar), CAST(pg_current_wal_lsn() - '0/0'::pg_lsn AS bigint), "
    "CAST(:written_at AS timestamptz) FROM relaxed "
    "ON CONFLICT (username) DO UPDATE SET wal_position = GREATEST(read_position.wal_position, "
    "EXCLUDED.wal_position), written_at = EXCLUDED.written_at"), name="bpm_record_write")
_LAST_WRITE = DirectStatement(select(_POSITIONS.c.wal_position).where(_POSITIONS.c.username == bindparam("username")),
                              name="bpm_last_write")


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
        self.reads = {"replica": 0, "primary": 0}  # where heavy reads went (for tests and the operator)

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

    def _serves(self, person: str | None, primary: Callable[[], UnitOfWork]) -> bool:
        """Whether ``person``'s heavy read may go to the replica (its position is not looked up while the replica
        is known to be away)."""
        return time.monotonic() >= self._down_until and self.can_serve(last_write(person, primary))

    def went_away(self, error: BaseException) -> None:
        logger.warning("the read replica did not answer (%s): reads go to the primary for %.0f s",
                       str(error).splitlines()[0] if str(error) else type(error).__name__, DOWN_SECONDS)
        self._down_until = time.monotonic() + DOWN_SECONDS

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self._sessions, prepares=self._prepares)

    def read(self, person: str | None, work: Callable[[UnitOfWork], T], primary: Callable[[], UnitOfWork]) -> T:
        """``work`` on the replica if it has replayed ``person``'s last write, else (or if it fails) on the
        primary."""
        if self._serves(person, primary):
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
            if self._serves(person, primary):
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


def record_write(uow: UnitOfWork, person: str, at: dt.datetime) -> None:
    """``person``'s change has committed: their heavy reads wait until a replica has replayed the primary's WAL
    as far as it is now (one statement, its own transaction; ``uow`` is a unit of the primary).

    Never fails the change it follows: that is committed, and a 500 would have its client send it again. A
    position not noted costs at most a read of a replica behind it, which the log says.
    """
    try:
        uow.write(_RECORD_WRITE, {"username": person, "written_at": at})
        uow.commit()
    except (DBAPIError, psycopg.Error) as error:
        logger.warning("where %s's change left the WAL could not be noted (%s): their next heavy reads may find "
                       "the replica behind it", person, str(error).splitlines()[0] if str(error) else type(error))


def last_write(person: str | None, primary: Callable[[], UnitOfWork]) -> int:
    """Where ``person``'s last change left the primary's WAL (0: none, or nobody)."""
    if not person:
        return 0
    with primary() as uow:
        row = _LAST_WRITE.first(uow, {"username": person}, independent=True)
    return int(row[0]) if row else 0
