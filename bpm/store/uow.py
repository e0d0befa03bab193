"""One unit of work per request or job: a session that commits everything or nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel

from bpm.errors import ConflictError
from bpm.store.models import metadata

TABLES_IN_INSERT_ORDER = tuple(metadata.sorted_tables)
_INSERTS = {table: insert(table) for table in TABLES_IN_INSERT_ORDER}


class UnitOfWork:
    """``with uow:`` opens a transaction; leaving without ``commit()`` (or by an exception) rolls back.

    New rows given to ``insert`` are written at commit, one multi-row INSERT
    per table in foreign-key order: far cheaper than the ORM's per-object
    flush on the hot path of every step.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self.session: Session
        self._pending: defaultdict[Table, list[dict[str, Any]]] = defaultdict(list)

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self._pending.clear()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._pending.clear()
        try:
            self.session.expunge_all()  # loaded rows stay readable (for serialization) after the unit ends
            self.session.rollback()
        finally:
            self.session.close()

    def insert(self, row: SQLModel) -> None:
        """Queue a new row object; it is written at commit (unset autoincrement keys are left to the database)."""
        table: Table = type(row).__table__  # type: ignore[attr-defined]
        values = {column.name: getattr(row, column.key) for column in table.columns}
        for column in table.primary_key.columns:
            if values[column.name] is None:
                del values[column.name]
        self._pending[table].append(values)

    def insert_values(self, model: type[SQLModel], **values: Any) -> None:
        """Queue a new row given as column values (no model object built: rows nobody reads back)."""
        table: Table = model.__table__  # type: ignore[attr-defined]
        self._pending[table].append({**self._defaults(table), **values})

    @staticmethod
    def _defaults(table: Table) -> dict[str, Any]:
        return {column.name: column.default.arg for column in table.columns
                if column.default is not None and column.default.is_scalar}

    def write_pending(self) -> None:
        """Send the queued inserts now (parents before children)."""
        if not self._pending:
            return
        connection = self.session.connection()  # Core, not the ORM's bulk-insert machinery
        for table in TABLES_IN_INSERT_ORDER:
            rows = self._pending.pop(table, None)
            if rows:
                connection.execute(_INSERTS[table], rows)

    def mark_written(self, row: SQLModel, values: dict[str, Any]) -> None:
        """Reflect an UPDATE already sent to the database in ``row`` without making the ORM send it again."""
        for key, value in values.items():
            set_committed_value(row, key, value)

    def flush(self) -> None:
        """Send pending ORM changes now; a uniqueness clash with a concurrent writer is a ConflictError."""
        with _conflicts_reported():
            self.session.flush()

    def commit(self) -> None:
        """Make everything done in this unit permanent (ConflictError if a concurrent write got there first)."""
        with _conflicts_reported():
            self.write_pending()
            self.session.commit()


@contextmanager
def _conflicts_reported() -> Iterator[None]:
    """A constraint violated at write time means another transaction wrote the same thing first."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError("a concurrent change conflicts with this one; reload and try again") from exc
