"""Hot-path statements built once: reading a row by id, and the optimistic lock
``UPDATE … SET …, revision = read + 1 WHERE id = :id AND revision = :read``.

Reusing a statement spares rebuilding (and re-keying) a SQL expression on
every request, which was most of a request's CPU.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

_statements: dict[tuple[str, frozenset[str], tuple[tuple[str, Any], ...]], Update] = {}
_lock = threading.Lock()


def _statement(table: Table, columns: Iterable[str], guards: tuple[tuple[str, Any], ...]) -> Update:
    key = (table.name, frozenset(columns), guards)
    statement = _statements.get(key)
    if statement is None:
        statement = (update(table)
                     .where(table.c.id == bindparam("key_"), table.c.revision == bindparam("read_"),
                            *(table.c[name] == value for name, value in guards))
                     .values({**{name: bindparam(f"v_{name}") for name in key[1]}, "revision": bindparam("next_")}))
        with _lock:
            _statements[key] = statement
    return statement


def versioned_update(session: Session, table: Table, key: str, read: int, values: Mapping[str, Any],
                     **guards: Any) -> bool:
    """Write ``values`` if the row is still at revision ``read`` (and matches ``guards``); False if not."""
    statement = _statement(table, values.keys(), tuple(sorted(guards.items())))
    params = {f"v_{name}": value for name, value in values.items()}
    result = session.execute(statement, {**params, "key_": key, "read_": read, "next_": read + 1})
    return result.rowcount == 1


_by_id: dict[type, Any] = {}


def load_by_id(session: Session, model: type, key: Any) -> Any:
    """The row of ``model`` with primary key ``key`` (or None), by a statement built once per model.

    A third cheaper than ``Session.get`` on the hot path, which re-derives its
    query from the mapper on every call.
    """
    statement = _by_id.get(model)
    if statement is None:
        statement = select(model).where(model.__table__.c.id == bindparam("id"))  # type: ignore[attr-defined]
        _by_id[model] = statement
    return session.execute(statement, {"id": key}).scalar_one_or_none()
