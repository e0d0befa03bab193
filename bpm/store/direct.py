"""Hot-path statements run straight on the driver's cursor, inside the unit of work's transaction.

Every approval runs eight statements, and SQLAlchemy's execution path
(execution context, events, result objects, around the driver call) cost
about 100 µs on each: a quarter of a request's CPU. These statements are
still Core constructs built from the tables and compiled by SQLAlchemy,
once per dialect, and their values pass through the columns' own type
processors (JSON, UTC datetimes) in both directions, so what is stored and
read back is exactly what the ORM path stores and reads. Only the
per-execution machinery is left out; statements off the hot path keep
using ``UnitOfWork.execute``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg import ClientCursor
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from bpm.errors import ConflictError

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class CompiledForDriver:
    """A statement as one dialect's driver takes it: SQL text, parameter order and value converters."""

    sql: str
    positional_names: tuple[str, ...] | None  # the order of ``?`` parameters; None for named ones
    defaults: Mapping[str, Any]  # values bound in the statement itself (a LIMIT, a status)
    bind_processors: Mapping[str, Processor]
    result_processors: tuple[Processor | None, ...]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect,
                insert_columns: Sequence[str] | None = None) -> CompiledForDriver:
        """Compile ``statement`` for ``dialect`` (``insert_columns``: the columns an INSERT sets)."""
        compiled = statement.compile(dialect=dialect, column_keys=list(insert_columns) if insert_columns else None)
        binds = compiled.binds.items()
        processors = {name: processor for name, bind in binds
                      if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        columns = getattr(statement, "selected_columns", ())
        return cls(
            sql=compiled.string,
            positional_names=tuple(compiled.positiontup or ()) if compiled.positional else None,
            defaults={name: bind.value for name, bind in binds if bind.value is not None},
            bind_processors=processors,
            result_processors=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                                    for column in columns))

    def parameters(self, values: Mapping[str, Any]) -> Mapping[str, Any] | list[Any]:
        """``values`` converted for the driver, in its paramstyle."""
        merged = {**self.defaults, **values} if self.defaults else values
        processors = self.bind_processors
        converted = {name: processors[name](value) if name in processors else value
                     for name, value in merged.items()}
        if self.positional_names is None:
            return converted
        return [converted[name] for name in self.positional_names]

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        """A fetched row with each column's result converter applied."""
        return tuple(value if processor is None or value is None else processor(value)
                     for processor, value in zip(self.result_processors, raw, strict=True))


class DirectStatement:
    """A Core statement built once at import and compiled once per dialect; read with ``first`` or ``all``.

    Writes are queued on the unit of work (``UnitOfWork.write``) and sent
    together by ``send_writes``.
    """

    def __init__(self, statement: ClauseElement, insert_columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        columns = getattr(statement, "selected_columns", None)
        # the keys of the selected columns, in order (duplicates suffixed as SQLAlchemy does: ``id_1``)
        self.column_keys: tuple[str, ...] = tuple(columns.keys()) if columns is not None else ()
        self._insert_columns = tuple(insert_columns) if insert_columns else None
        self._compiled: dict[str, CompiledForDriver] = {}
        self._lock = threading.Lock()

    def for_dialect(self, dialect: Dialect) -> CompiledForDriver:
        """The statement compiled for ``dialect`` (compiled on first use)."""
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = CompiledForDriver.compile(self.statement, dialect, self._insert_columns)
            with self._lock:
                self._compiled[dialect.name] = compiled
        return compiled

    def first(self, uow: UnitOfWork, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of the result, converted, or None."""
        compiled = self.for_dialect(uow.dialect)
        cursor = uow.driver_cursor()
        cursor.execute(compiled.sql, compiled.parameters(values))
        raw = cursor.fetchone()
        return None if raw is None else compiled.row(raw)

    def all(self, uow: UnitOfWork, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of the result, converted."""
        compiled = self.for_dialect(uow.dialect)
        cursor = uow.driver_cursor()
        cursor.execute(compiled.sql, compiled.parameters(values))
        return [compiled.row(raw) for raw in cursor.fetchall()]


@dataclass(frozen=True)
class QueuedWrite:
    """A write waiting in a unit of work; with ``conflict``, it must change exactly one row."""

    statement: DirectStatement
    values: Mapping[str, Any]
    conflict: str | None = None

    def check(self, rowcount: int) -> None:
        """ConflictError if this write was an optimistic lock that matched no row."""
        if self.conflict is not None and rowcount != 1:
            raise ConflictError(self.conflict)


def send_writes(dialect: Dialect, connection: Any, cursor: Any, writes: Sequence[QueuedWrite], commit: bool,
                begin: bool) -> bool:
    """Send ``writes`` in order on the driver ``connection``; True if they are committed already.

    ``begin``: no transaction is open yet (PostgreSQL, whose connection the
    unit keeps in autocommit until it first writes). ``commit``: the unit is
    committing; the COMMIT rides along unless a write is an optimistic lock,
    whose row count must be seen before committing.

    On PostgreSQL several writes go as one multi-statement query (values
    bound client-side by psycopg, which quotes them), so a transaction's
    writes cost one round trip instead of one each: measured on a two-core
    machine, half the client's and a third of the server's CPU of sending
    them one by one. SQLite runs in process, where a round trip costs
    nothing, so writes go one by one.
    """
    if dialect.name != "postgresql":
        _one_by_one(dialect, cursor, writes)
        return False
    if len(writes) == 1 and begin == commit:
        # alone and outside a transaction, a statement is a transaction of its own
        _one_by_one(dialect, cursor, writes)
        return commit
    return _batch(dialect, connection, writes, commit, begin)


def _one_by_one(dialect: Dialect, cursor: Any, writes: Sequence[QueuedWrite]) -> None:
    for write in writes:
        compiled = write.statement.for_dialect(dialect)
        cursor.execute(compiled.sql, compiled.parameters(write.values))
        write.check(cursor.rowcount)


def _batch(dialect: Dialect, connection: Any, writes: Sequence[QueuedWrite], commit: bool, begin: bool) -> bool:
    batch = ClientCursor(connection)
    try:
        statements = ["BEGIN"] if begin else []
        for write in writes:
            compiled = write.statement.for_dialect(dialect)
            statements.append(batch.mogrify(compiled.sql, compiled.parameters(write.values)))
        commit_now = commit and all(write.conflict is None for write in writes)
        if commit_now:
            statements.append("COMMIT")
        batch.execute(";\n".join(statements))
        rowcounts = [batch.rowcount]
        while batch.nextset():
            rowcounts.append(batch.rowcount)
    finally:
        batch.close()
    for write, rowcount in zip(writes, rowcounts[1:] if begin else rowcounts, strict=False):
        write.check(rowcount)  # (COMMIT's result, last, has no count to check)
    return commit_now
