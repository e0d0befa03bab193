"""One unit of work per request or job: a connection whose transaction commits everything or nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable
from sqlmodel import SQLModel

from bpm.errors import ConflictError
from bpm.store.models import RECORD_TABLES, metadata

TABLES_IN_INSERT_ORDER = tuple(metadata.sorted_tables)
# inline: no RETURNING of generated keys, which nobody reads back.
_INSERTS = {table: insert(table).inline() for table in TABLES_IN_INSERT_ORDER}
# Python-side column defaults (Field(default=...)), for rows queued as plain values.
_DEFAULTS = {table: {column.name: column.default.arg for column in table.columns
                     if column.default is not None and column.default.is_scalar}
             for table in TABLES_IN_INSERT_ORDER}


class UnitOfWork:
    """``with uow:`` holds one connection and its transaction; leaving without ``commit()`` rolls back.

    The hot path (every step of every instance) talks SQLAlchemy Core on
    ``execute`` and gets plain records; the ORM ``session`` is made only when
    an action wants model objects, and shares the same transaction. New rows
    given to ``insert`` are written at commit, one multi-row INSERT per table
    in foreign-key order.
    """

    def __init__(self, db: Engine, session_factory: sessionmaker[Session]) -> None:
        self._db = db
        self._factory = session_factory
        self.connection: Connection
        self._session: Session | None = None
        self._pending: defaultdict[Table, list[dict[str, Any]]] = defaultdict(list)

    def __enter__(self) -> UnitOfWork:
        self.connection = self._db.connect()
        self._session = None
        self._pending.clear()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._pending.clear()
        try:
            if self._session is not None:
                self._session.expunge_all()  # loaded objects stay readable (for serialization) after the unit ends
                self._session.close()
                self._session = None
            self.connection.rollback()  # nothing to undo after a commit
        finally:
            self.connection.close()

    @property
    def session(self) -> Session:
        """An ORM session on this unit's connection, inside its transaction (made on first use)."""
        if self._session is None:
            if not self.connection.in_transaction():
                self.connection.begin()
            # rollback_only: the session never commits the unit's transaction; commit() below does.
            self._session = self._factory(bind=self.connection, join_transaction_mode="rollback_only")
        return self._session

    def execute(self, statement: Executable, parameters: Mapping[str, Any] | list[dict[str, Any]] | None = None,
                ) -> CursorResult[Any]:
        """Run a Core statement in this unit's transaction (after any ORM changes, as autoflush would)."""
        if self._session is not None and (self._session.new or self._session.dirty or self._session.deleted):
            self.flush()
        return self.connection.execute(statement, parameters)

    def insert(self, record: SQLModel) -> None:
        """Queue a new instance or task record; it is written at commit."""
        table = RECORD_TABLES[type(record)]
        self._pending[table].append({column.name: getattr(record, column.key) for column in table.columns})

    def insert_values(self, model: type[SQLModel], **values: Any) -> None:
        """Queue a new row given as column values (no object built: rows nobody reads back)."""
        table: Table = model.__table__  # type: ignore[attr-defined]
        self._pending[table].append({**_DEFAULTS[table], **values})

    def write_pending(self) -> None:
        """Send the queued inserts now (parents before children)."""
        for table in TABLES_IN_INSERT_ORDER:
            rows = self._pending.pop(table, None)
            if rows:  # one row is a plain execute: cheaper than the driver's executemany
                self.connection.execute(_INSERTS[table], rows[0] if len(rows) == 1 else rows)

    @staticmethod
    def mark_written(record: SQLModel, values: Mapping[str, Any]) -> None:
        """Reflect an UPDATE already sent to the database in a record loaded by this unit."""
        for key, value in values.items():
            setattr(record, key, value)

    def flush(self) -> None:
        """Send pending ORM changes now; a uniqueness clash with a concurrent writer is a ConflictError."""
        if self._session is not None:
            with _conflicts_reported():
                self._session.flush()

    def commit(self) -> None:
        """Make everything done in this unit permanent (ConflictError if a concurrent write got there first)."""
        with _conflicts_reported():
            if self._session is not None:
                self._session.flush()
            self.write_pending()
            self.connection.commit()


@contextmanager
def _conflicts_reported() -> Iterator[None]:
    """A constraint violated at write time means another transaction wrote the same thing first."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError("a concurrent change conflicts with this one; reload and try again") from exc
