"""Alembic environment: the schema is bpm.store.models; the URL comes from the `bpm` command or tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import context

from bpm.store.db import make_engine
from bpm.store.models import metadata
from bpm.store.partitions import compared_with_the_models

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite, compare_type=True,
                      include_object=compared_with_the_models(connection.dialect.name))
    if not sqlite:
        with context.begin_transaction():
            context.run_migrations()
        return
    with _sqlite_foreign_keys_off(connection) as raw, context.begin_transaction():
        context.run_migrations()
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:  # leaving the block by this error rolls the migration back
            raise RuntimeError(f"the migration would leave rows pointing nowhere: {broken[:5]}")


@contextmanager
def _sqlite_foreign_keys_off(connection) -> Iterator[Any]:
    """SQLite changes a table by copying it and dropping the original.

    With foreign keys on, that DROP deletes the rows that point at the table
    (``ON DELETE CASCADE``: every task candidate) or fails on those that may
    not (comments). Alembic's advice: keys off while migrating (the pragma
    only works outside a transaction); the caller checks every key before
    committing.
    """
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        raise RuntimeError("SQLite migrations must start outside a transaction")
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield raw
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
