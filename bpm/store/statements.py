"""Hot-path statements built once: reading a record by id, and the optimistic lock
``UPDATE … SET …, revision = read + 1 WHERE id = :id AND revision = :read``.

Reusing a statement spares rebuilding (and re-keying) a SQL expression on
every request, which was most of a request's CPU; running it as a
DirectStatement spares SQLAlchemy's per-execution machinery.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from bpm.errors import ConflictError
from bpm.store.direct import DirectStatement
from bpm.store.models import RECORD_TABLES
from bpm.store.uow import UnitOfWork

RecordT = TypeVar("RecordT", bound=SQLModel)

_statements: dict[tuple[str, frozenset[str], tuple[tuple[str, Any], ...]], DirectStatement] = {}
_lock = threading.Lock()


def _statement(table: Table, columns: Iterable[str], guards: tuple[tuple[str, Any], ...]) -> DirectStatement:
    key = (table.name, frozenset(columns), guards)
    statement = _statements.get(key)
    if statement is None:
        statement = DirectStatement(
            update(table)
            .where(table.c.id == bindparam("key_"), table.c.revision == bindparam("read_"),
                   *(table.c[name] == value for name, value in guards))
            .values({**{name: bindparam(f"v_{name}") for name in key[1]}, "revision": bindparam("next_")}))
        with _lock:
            _statements[key] = statement
    return statement


def versioned_update(uow: UnitOfWork, table: Table, key: str, read: int, values: Mapping[str, Any],
                     conflict: str | ConflictError,
                     **guards: Any) -> None:
    """Write ``values`` if the row is still at revision ``read`` (and matches ``guards``).

    Queued on the unit of work: if the row moved on, the unit fails with
    ConflictError(``conflict``) when the write is sent, at the latest at commit.
    """
    statement = _statement(table, values.keys(), tuple(sorted(guards.items())))
    params = {f"v_{name}": value for name, value in values.items()}
    uow.write(statement, {**params, "key_": key, "read_": read, "next_": read + 1}, conflict)


_COLUMN_KEYS = {record_type: tuple(table.columns.keys()) for record_type, table in RECORD_TABLES.items()}


def record_at(record_type: type[RecordT], row: Sequence[Any], start: int = 0) -> RecordT:
    """The record whose table's columns ``row`` holds from ``start`` on, in table order (``select(table)``).

    Values read from our own database are trusted: not validated again.
    """
    keys = _COLUMN_KEYS[record_type]
    return record_type.model_construct(**dict(zip(keys, row[start:start + len(keys)], strict=True)))


def split_row(row: Sequence[Any], *record_types: type[SQLModel]) -> list[Any]:
    """Records from one row that selected the columns of each record's table in turn (a join)."""
    records, start = [], 0
    for record_type in record_types:
        records.append(record_at(record_type, row, start))
        start += len(_COLUMN_KEYS[record_type])
    return records


_records_by_id: dict[type[SQLModel], DirectStatement] = {}


def load_record(uow: UnitOfWork, record_type: type[RecordT], key: Any) -> RecordT | None:
    """The record of ``record_type`` with id ``key`` (or None)."""
    statement = _records_by_id.get(record_type)
    if statement is None:
        table = RECORD_TABLES[record_type]
        statement = _records_by_id[record_type] = DirectStatement(select(table).where(table.c.id == bindparam("id")))
    row = statement.first(uow, {"id": key})
    return None if row is None else record_at(record_type, row)


_by_id: dict[type, Any] = {}


def load_by_id(session: Session, model: type, key: Any) -> Any:
    """The ORM object of ``model`` with primary key ``key`` (or None), by a statement built once per model."""
    statement = _by_id.get(model)
    if statement is None:
        statement = select(model).where(model.__table__.c.id == bindparam("id"))  # type: ignore[attr-defined]
        _by_id[model] = statement
    return session.execute(statement, {"id": key}).scalar_one_or_none()
