"""Storage: SQLModel tables, engines for SQLite and PostgreSQL, Alembic migrations, units of work."""

from bpm.store.db import make_engine, make_session_factory
from bpm.store.uow import UnitOfWork

__all__ = ["UnitOfWork", "make_engine", "make_session_factory"]
