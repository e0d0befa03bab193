"""Database engines: SQLite tuned for a single file (WAL, foreign keys, serialized writers), or PostgreSQL."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, overload

import orjson
import psycopg
from psycopg import pq
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

logger = logging.getLogger(__name__)
Database = Engine  # what the runtime holds: the pool of connections units of work are made on
SessionFactory = sessionmaker[Session]


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def normalise_url(url: str) -> str:
    """Let ``postgresql://`` and ``postgres://`` mean psycopg 3, the only driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, pool_size: int = 10, idle_ping_seconds: float = 10.0) -> Engine:
    """Create the SQLAlchemy engine for ``url`` with the settings each backend needs."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, json_serializer=_json_dumps, json_deserializer=orjson.loads,
                               connect_args={"check_same_thread": False, "timeout": 30})
        _tune_sqlite(engine)
        return engine
    engine = create_engine(url, json_serializer=_json_dumps, json_deserializer=orjson.loads,
                           pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800,
                           # prepare_threshold None: the hot statements are PREPAREd by bpm.store.direct;
                           # psycopg's own preparing would DEALLOCATE ALL of them at every rollback.
                           connect_args={"cursor_factory": DescribedOnDemandCursor, "prepare_threshold": None})
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


_RESULTS_WITH_ROWS = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)


class _ColumnsOnDemand(Sequence[psycopg.Column]):
    """A cursor's ``description`` whose Column objects are built when first looked at."""

    __slots__ = ("_columns", "_count", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor[Any], result: pq.abc.PGresult) -> None:
        self._cursor, self._result, self._count = cursor, result, result.nfields
        self._columns: list[psycopg.Column] | None = None

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> psycopg.Column: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[psycopg.Column]: ...
    def __getitem__(self, index: int | slice) -> psycopg.Column | Sequence[psycopg.Column]:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                raise RuntimeError("a cursor description was read after the cursor ran another query")
            self._columns = [psycopg.Column(self._cursor, i) for i in range(self._count)]
        return self._columns[index]


class DescribedOnDemandCursor(psycopg.Cursor[Any]):
    """psycopg builds a Column object per result column whenever ``description`` is read.

    SQLAlchemy reads it after every query but uses the columns only the first
    time it sees a statement (it caches the result layout per compiled
    statement); for wide rows (tasks and instances in lists) that is much
    of a query's CPU. The answer is the same object psycopg describes, built lazily.
    """

    @property
    def description(self) -> Sequence[psycopg.Column] | None:  # type: ignore[override]
        result = self.pgresult
        if result is not None and (result.nfields or result.status in _RESULTS_WITH_ROWS):
            return _ColumnsOnDemand(self, result)
        return None


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle for ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip per
    transaction, a fifth of a request here. Connections die while idle (a
    database restart, a firewall timeout), so pinging those is enough; a
    dead one raises DisconnectionError and the pool replaces it before the
    request sees anything.
    """

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        now = time.monotonic()
        if now - record.info.get("returned_at", now) >= idle_seconds:
            try:
                dbapi_connection.execute("SELECT 1")
                dbapi_connection.rollback()  # hand it over outside a transaction, as the pool keeps it
            except Exception as exc:
                raise DisconnectionError("idle connection is gone") from exc

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()


READING: ContextVar[bool] = ContextVar("bpm_reading", default=False)
"""Set while a request only reads (a GET): its transactions do not take SQLite's write lock, so a page read
never waits behind a writer (WAL lets readers read the last commit) — a runaway's worker writing all the time
held every inbox read up for seconds. Writes keep the lock (``_tune_sqlite``)."""


@contextmanager
def reading() -> Iterator[None]:
    """Mark what runs inside as reading only (SQLite: deferred transactions)."""
    token = READING.set(True)
    try:
        yield
    finally:
        READING.reset(token)


def _tune_sqlite(engine: Engine) -> None:
    """WAL and foreign keys on; every writing transaction takes the write lock up front (BEGIN IMMEDIATE).

    Without IMMEDIATE, two transactions that read and then write fail with
    "database is locked" instead of waiting their turn; with it, writers
    queue and the loser of a race sees the winner's commit and gets a clean
    version conflict. A transaction of a request that only reads (``reading``)
    begins deferred: it takes no lock at all.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if READING.get() else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


def answers(db: Engine) -> bool:
    """True if the database takes a connection and answers a query (the health check)."""
    try:
        with db.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception:
        return False
    return True
