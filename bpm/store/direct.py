"""Hot-path statements run straight on the driver's cursor, inside the unit of work's transaction.

An approval runs eight statements, and SQLAlchemy's execution path
(execution context, events, result objects, around the driver call) cost
more than the driver call itself (one-off measurements in
docs/service.md). These statements are
still Core constructs built from the tables and compiled by SQLAlchemy,
once per dialect, and their values pass through the columns' own type
processors (JSON, UTC datetimes) in both directions, so what is stored and
read back is exactly what the ORM path stores and reads. Only the
per-execution machinery is left out; statements off the hot path keep
using ``UnitOfWork.execute``.

On PostgreSQL each statement is PREPAREd once per connection and run with
EXECUTE, its values bound client-side by psycopg (which quotes them): that
is what lets the writes of a unit travel as one multi-statement query
(``send_writes``) while PostgreSQL still plans each statement only once.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.adapt import PyFormat
from psycopg.types.json import Jsonb
from sqlalchemy import Integer, bindparam, func, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase

from bpm.errors import ConflictError

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

Processor = Callable[[Any], Any]
_PYFORMAT_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_ROW_LOCKING = re.compile(r"\bFOR (?:NO KEY |KEY )?(?:UPDATE|SHARE)\b")
_statement_numbers = itertools.count(1)
EXPECTED_ONE_ROW = "BPM01"  # SQLSTATE of bpm_expect_one_row (migration 0028): an optimistic lock in a batch failed
WRITE_NUMBER = "bpm_write"  # the guarded form's parameter: the write's place in its batch


@dataclass(frozen=True)
class ServerPrepared:
    """A statement as a PostgreSQL prepared statement: PREPAREd once per connection, then EXECUTEd.

    Values sent as literals (client-side binding, which batching needs) would
    make PostgreSQL parse and plan each statement every time; EXECUTE of a
    prepared statement skips both.
    """

    name: str
    prepare_sql: str
    execute_sql: str  # ``EXECUTE name(%s, …)``, for psycopg to fill in
    parameter_names: tuple[str, ...]

    @classmethod
    def of(cls, name: str, pyformat_sql: str) -> ServerPrepared:
        """From SQL in psycopg's ``%(name)s`` style (SQLAlchemy casts every parameter, so each has a type)."""
        numbers: dict[str, int] = {}

        def numbered(match: re.Match[str]) -> str:
            if match.group(1) is None:
                return "%"  # an escaped percent sign
            return f"${numbers.setdefault(match.group(1), len(numbers) + 1)}"

        body = _PYFORMAT_PLACEHOLDER.sub(numbered, pyformat_sql)
        placeholders = ", ".join(["%s"] * len(numbers))
        return cls(name=name, prepare_sql=f"PREPARE {name} AS {body}",
                   execute_sql=f"EXECUTE {name}({placeholders})" if numbers else f"EXECUTE {name}",
                   parameter_names=tuple(numbers))


@dataclass(frozen=True)
class CompiledForDriver:
    """A statement as one dialect's driver takes it: SQL text, parameter order and value converters."""

    sql: str
    positional_names: tuple[str, ...] | None  # the order of ``?`` parameters; None for named ones
    defaults: Mapping[str, Any]  # values bound in the statement itself (a LIMIT, a status)
    bind_processors: Mapping[str, Processor]
    result_processors: tuple[Processor | None, ...]
    server_prepared: ServerPrepared | None  # on PostgreSQL, how the statement runs in a batch
    locks_rows: bool  # SELECT … FOR UPDATE/SHARE: its locks need a transaction, even before any write

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect, name: str,
                insert_columns: Sequence[str] | None = None) -> CompiledForDriver:
        """Compile ``statement`` for ``dialect``, as prepared statement ``name`` on PostgreSQL.

        ``insert_columns``: the columns an INSERT sets.
        """
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
                                    for column in columns),
            server_prepared=ServerPrepared.of(name, compiled.string) if dialect.name == "postgresql" else None,
            locks_rows=_ROW_LOCKING.search(compiled.string) is not None)

    def converted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` (with the statement's own bound values) through the columns' bind processors."""
        merged = {**self.defaults, **values} if self.defaults else values
        processors = self.bind_processors
        return {name: processors[name](value) if name in processors else value for name, value in merged.items()}

    def call(self, values: Mapping[str, Any], prepared: bool = True) -> tuple[str, Mapping[str, Any] | list[Any]]:
        """What to hand the driver's ``execute`` for ``values``: SQL and parameters in its paramstyle
        (``prepared``: as an EXECUTE of the statement PREPAREd on PostgreSQL, else its own SQL)."""
        converted = self.converted(values)
        if self.server_prepared is not None and prepared:
            return self.server_prepared.execute_sql, [converted[name] for name in self.server_prepared.parameter_names]
        if self.positional_names is not None:
            return self.sql, [converted[name] for name in self.positional_names]
        return self.sql, converted

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        """A fetched row with each column's result converter applied."""
        return tuple(value if processor is None or value is None else processor(value)
                     for processor, value in zip(self.result_processors, raw, strict=True))


class DirectStatement:
    """A Core statement built once at import and compiled once per dialect; read with ``first`` or ``all``.

    Writes are queued on the unit of work (``UnitOfWork.write``) and sent
    together by ``send_writes``.
    """

    def __init__(self, statement: ClauseElement, insert_columns: Sequence[str] | None = None,
                 guarded: ClauseElement | None = None, name: str | None = None) -> None:
        """``guarded``: the statement as it fails unless it changes exactly one row (``guarded_form``), for one
        that cannot be derived (SQL text); ``name``: of its prepared statement (else the next number's)."""
        self.statement = statement
        self._insert_columns = tuple(insert_columns) if insert_columns else None
        self.name = name or f"bpm_{next(_statement_numbers)}"  # of its prepared statement on PostgreSQL
        self._compiled: dict[str, CompiledForDriver] = {}
        self._lock = threading.Lock()
        self._guarded_statement = guarded
        self._guarded: DirectStatement | None = None

    def guarded_form(self) -> DirectStatement | None:
        """This write as one that fails with SQLSTATE ``EXPECTED_ONE_ROW`` unless it changes exactly one row.

        ``WITH changed AS (<write> RETURNING 1) SELECT bpm_expect_one_row(count(*), :bpm_write) FROM changed``:
        an optimistic lock checked by PostgreSQL itself, so the batch it travels in can end with COMMIT (the
        batch stops at the error; ``send_writes``). Derived for an UPDATE, INSERT or DELETE built with Core;
        None for other statements unless given.
        """
        if self._guarded is None:
            guarded = self._guarded_statement
            if guarded is None and isinstance(self.statement, UpdateBase) and not self.statement._returning:
                changed = self.statement.returning(literal_column("1")).cte("changed")
                guarded = select(func.bpm_expect_one_row(func.count(), bindparam(WRITE_NUMBER, type_=Integer))
                                 ).select_from(changed)
            if guarded is None:
                return None
            self._guarded = DirectStatement(guarded, self._insert_columns, name=f"{self.name}_guarded")
        return self._guarded

    def for_dialect(self, dialect: Dialect) -> CompiledForDriver:
        """The statement compiled for ``dialect`` (compiled on first use)."""
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = CompiledForDriver.compile(self.statement, dialect, self.name, self._insert_columns)
            with self._lock:
                self._compiled[dialect.name] = compiled
        return compiled

    def first(self, uow: UnitOfWork, values: Mapping[str, Any], independent: bool = False) -> tuple[Any, ...] | None:
        """The first row of the result, converted, or None.

        ``independent``: no write this unit has queued can change what it reads, so they need not be sent
        first (they stay in the one batch sent at commit).
        """
        compiled, cursor = self._run(uow, values, independent)
        raw = cursor.fetchone()
        return None if raw is None else compiled.row(raw)

    def all(self, uow: UnitOfWork, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of the result, converted."""
        compiled, cursor = self._run(uow, values)
        return [compiled.row(raw) for raw in cursor.fetchall()]

    def _run(self, uow: UnitOfWork, values: Mapping[str, Any],
             independent: bool = False) -> tuple[CompiledForDriver, Any]:
        compiled = self.for_dialect(uow.dialect)
        cursor = uow.cursor_for(compiled, send_first=not independent)
        cursor.execute(*compiled.call(values, uow.prepares))
        return compiled, cursor


@dataclass(frozen=True)
class QueuedWrite:
    """A write waiting in a unit of work; with ``conflict``, it must change exactly one row."""

    statement: DirectStatement
    values: Mapping[str, Any]
    conflict: str | ConflictError | None = None

    def check(self, rowcount: int) -> None:
        """ConflictError (or the one given) if this write was an optimistic lock that matched no row."""
        if self.conflict is not None and rowcount != 1:
            raise self.conflict if isinstance(self.conflict, ConflictError) else ConflictError(self.conflict)


def prepare_once(cursor: Any, compiled: CompiledForDriver, prepared: set[str]) -> None:
    """PREPARE ``compiled`` on the cursor's connection unless ``prepared`` (that connection's names) has it.

    A prepared statement lives as long as its connection, rolled back
    transactions included; psycopg's own automatic preparation is off (it
    would DEALLOCATE ALL on every rollback).
    """
    server = compiled.server_prepared
    if server is not None and server.name not in prepared:
        cursor.execute(server.prepare_sql)
        prepared.add(server.name)


def sql_literal(value: Any, cursor: Any, json_text: Callable[[Any], Any] | None = None) -> str:
    """``value`` as an SQL literal for a batch, as psycopg's ``mogrify`` would write it, at a fraction of the cost.

    Quoting every value of a batch through libpq's escaping was the largest
    single cost of a start or a completion in the server (issue 25: 12 % of its
    CPU, about 150 values per process). With ``standard_conforming_strings``
    on — the only setting ``send_writes`` calls this under — the complete
    quoting of a string is doubling its single quotes: a backslash is an
    ordinary character, and no client encoding PostgreSQL accepts has a
    multibyte character containing a quote byte. Anything else (a NUL, which
    psycopg refuses with its own error; floats, naive datetimes, bytes, …)
    goes to psycopg as before.

    JSON (``Jsonb``) is written by the serializer psycopg would use: its own
    (``dumps``), else the connection's — the engine's, which SQLAlchemy sets
    on each connection — through ``json_text``, the connection's dumper
    (``json_dumper``); then it is text like any other. (Left to ``mogrify``,
    the snapshots and deltas cost 10 µs each, a tenth of the runtime's CPU.)
    """
    kind = type(value)
    if kind is Jsonb and (value.dumps is not None or json_text is not None):
        text = value.dumps(value.obj) if value.dumps is not None else json_text(value)  # type: ignore[misc]
        value = bytes(text).decode() if not isinstance(text, str) else text
        kind = str
    if kind is str or isinstance(value, str):  # (a str enum is written as its value, as psycopg writes it)
        if "\x00" not in value:
            return "'" + value.replace("'", "''") + "'"
    elif value is None:
        return "NULL"
    elif kind is int:
        return str(value)
    elif kind is bool:
        return "true" if value else "false"
    elif kind is datetime and value.tzinfo is not None:
        return "'" + value.isoformat() + "'"
    literal: str = cursor.mogrify("%s", (value,))
    return literal


def json_dumper(cursor: Any) -> Callable[[Any], Any]:
    """How the cursor's connection writes a ``Jsonb`` as JSON text (what ``mogrify`` would put in quotes)."""
    dumper = cursor.adapters.get_dumper(Jsonb, PyFormat.TEXT)(Jsonb, cursor)
    dump: Callable[[Any], Any] = dumper.dump
    return dump


def _batched(call: tuple[str, Mapping[str, Any] | list[Any]], server: ServerPrepared | None, cursor: Any,
             plain_quoting: bool, json_text: Callable[[Any], Any]) -> str:
    """One statement of a batch with its values written in (see ``sql_literal``)."""
    sql, values = call
    if server is None or not plain_quoting or not isinstance(values, list):
        literal: str = cursor.mogrify(sql, values)
        return literal
    if not values:
        return sql
    return f"EXECUTE {server.name}({', '.join([sql_literal(value, cursor, json_text) for value in values])})"


def _as_sent(write: QueuedWrite, number: int, batched: bool) -> tuple[DirectStatement, Mapping[str, Any]]:
    """The statement ``write`` goes as, with its values: an optimistic lock in a PostgreSQL batch in its guarded
    form (``DirectStatement.guarded_form``), told its place in the batch (``number``)."""
    guarded = write.statement.guarded_form() if batched and write.conflict is not None else None
    if guarded is None:
        return write.statement, write.values
    return guarded, {**write.values, WRITE_NUMBER: number}


def send_writes(dialect: Dialect, cursor: Any, writes: Sequence[QueuedWrite], commit: bool, begin: bool,
                prepared: set[str] | None) -> bool:
    """Send ``writes`` in order; True if they are committed already.

    ``begin``: no transaction is open yet (PostgreSQL, whose connection the
    unit keeps in autocommit until it first writes). ``commit``: the unit is
    committing; the COMMIT rides along, an optimistic lock going in its
    guarded form (``DirectStatement.guarded_form``: PostgreSQL checks its row
    count and stops the batch before the COMMIT); only a lock without one
    makes the COMMIT wait for the row counts. ``prepared``: the
    statements PREPAREd on this connection so far; None when nothing may be
    prepared (a transaction pooler in front: each statement goes as itself).

    On PostgreSQL several writes go as one multi-statement query of EXECUTEs
    (values bound client-side by psycopg, which quotes them), so a
    transaction's writes cost one round trip instead of one each, which
    saves CPU on both sides as well as waiting. SQLite runs in process,
    where a round trip costs nothing, so writes go one by one.
    """
    # (alone and outside a transaction, a statement is a transaction of its own)
    batched = dialect.name == "postgresql" and not (len(writes) == 1 and begin == commit)
    sent = [_as_sent(write, number, batched) for number, write in enumerate(writes)]
    compiled = [statement.for_dialect(dialect) for statement, _ in sent]
    if prepared is not None:
        for statement in compiled:
            prepare_once(cursor, statement, prepared)
    calls = [statement.call(values, prepared is not None) for statement, (_, values) in zip(compiled, sent,
                                                                                            strict=True)]
    if not batched:
        for call, write in zip(calls, writes, strict=True):
            cursor.execute(*call)
            write.check(cursor.rowcount)
        return dialect.name == "postgresql" and commit
    statements = ["BEGIN"] if begin else []
    plain_quoting = cursor.connection.info.parameter_status("standard_conforming_strings") == "on"
    json_text = json_dumper(cursor)
    statements += [_batched(call, statement.server_prepared if prepared is not None else None, cursor,
                            plain_quoting, json_text)
                   for call, statement in zip(calls, compiled, strict=True)]
    # a lock goes guarded, checked by PostgreSQL itself, unless it has no guarded form: then the COMMIT waits
    commit_now = commit and all(write.conflict is None or statement is not write.statement
                                for (statement, _), write in zip(sent, writes, strict=True))
    if commit_now:
        statements.append("COMMIT")
    try:
        cursor.execute(";\n".join(statements))
    except psycopg.Error as error:
        if error.sqlstate != EXPECTED_ONE_ROW:
            raise
        writes[int(error.diag.message_detail or "")].check(0)  # its ConflictError
        raise  # (not reached: a guarded write has a conflict to raise)
    rowcounts = [cursor.rowcount]
    while cursor.nextset():
        rowcounts.append(cursor.rowcount)
    for write, rowcount in zip(writes, rowcounts[1:] if begin else rowcounts, strict=False):
        write.check(rowcount)  # (COMMIT's result, last, has no count to check)
    return commit_now
