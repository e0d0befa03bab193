"""The optimistic lock, written once: ``UPDATE … SET …, revision = read + 1 WHERE key = :key AND revision = :read``.

Statements are built once per table and set of columns and reused, so the
hot path does not rebuild (and re-key) a SQL expression on every request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, update
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
