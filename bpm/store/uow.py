"""One unit of work per request or job: a connection whose transaction commits everything or nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable
from sqlmodel import SQLModel

from bpm.errors import ConflictError
from bpm.store.direct import DirectStatement
from bpm.store.models import RECORD_TABLES, metadata

TABLES_IN_INSERT_ORDER = tuple(metadata.sorted_tables)
# Python-side column defaults (Field(default=...)), for rows queued as plain values.
_DEFAULTS = {table: {column.name: column.default.arg for column in table.columns
                     if column.default is not None and column.default.is_scalar}
             for table in TABLES_IN_INSERT_ORDER}


_inserts: dict[tuple[Table, tuple[str, ...]], DirectStatement] = {}


def _insert_of(table: Table, columns: tuple[str, ...]) -> DirectStatement:
    """The INSERT of ``columns`` into ``table``, built once (inline: no generated key is read back)."""
    statement = _inserts.get((table, columns))
    if statement is None:
        statement = _inserts[(table, columns)] = DirectStatement(insert(table).inline(), insert_columns=columns)
    return statement


class UnitOfWork:
    """``with uow:`` holds one connection and its transaction; leaving without ``commit()`` rolls back.

    The hot path (every step of every instance) runs DirectStatements on
    ``driver_cursor`` and gets plain records; other Core statements go
    through ``execute``; the ORM ``session`` is made only when an action
    wants model objects. All three share the one transaction. New rows given
    to ``insert`` are written at commit, batched per table in foreign-key
    order.
    """

    def __init__(self, db: Engine, session_factory: sessionmaker[Session]) -> None:
        self._db = db
        self._factory = session_factory
        self.connection: Connection
        self._session: Session | None = None
        self._cursor: Any = None
        self._pending: defaultdict[Table, list[dict[str, Any]]] = defaultdict(list)

    def __enter__(self) -> UnitOfWork:
        self.connection = self._db.connect()
        self._session = None
        self._cursor = None
        self._pending.clear()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._pending.clear()
        try:
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None
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

    @property
    def dialect(self) -> Dialect:
        """The database dialect (DirectStatements are compiled for it)."""
        return self._db.dialect

    def driver_cursor(self) -> Any:
        """The driver's cursor on this unit's connection, inside its transaction (ORM changes flushed first)."""
        if self._session is not None and (self._session.new or self._session.dirty or self._session.deleted):
            self.flush()
        if self._cursor is None:
            if not self.connection.in_transaction():
                self.connection.begin()  # SQLite's BEGIN IMMEDIATE comes from this (db._tune_sqlite)
            self._cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

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
            if not rows:
                continue
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for row in rows:
                by_columns[tuple(row)].append(row)
            for columns, same_shape in by_columns.items():
                statement = _insert_of(table, columns)
                if len(same_shape) == 1:  # a plain execute is cheaper than the driver's executemany
                    statement.run(self, same_shape[0])
                else:
                    statement.run_many(self, same_shape)

    @staticmethod
    def mark_written(record: SQLModel, values: Mapping[str, Any]) -> None:
        """Reflect an UPDATE already sent to the database in a record loaded by this unit."""
        for key, value in values.items():
            setattr(record, key, value)

    def flush(self) -> None:
        """Send pending ORM changes now; a uniqueness clash with a concurrent writer is a ConflictError."""
        if self._session is not None:
            with self._conflicts_reported():
                self._session.flush()

    def commit(self) -> None:
        """Make everything done in this unit permanent (ConflictError if a concurrent write got there first)."""
        with self._conflicts_reported():
            if self._session is not None:
                self._session.flush()
            self.write_pending()
            self.connection.commit()

    @contextmanager
    def _conflicts_reported(self) -> Iterator[None]:
        """A constraint violated at write time means another transaction wrote the same thing first.

        The driver's own IntegrityError comes from DirectStatements, SQLAlchemy's from everything else.
        """
        try:
            yield
        except (IntegrityError, self.dialect.loaded_dbapi.IntegrityError) as exc:
            raise ConflictError("a concurrent change conflicts with this one; reload and try again") from exc
