"""Model objects of one unit of work by primary key: what an action loads, changes and adds back.

The runtime asks for queries by intent (``bpm.store.repositories``); loading
one row by its key, adding one, removing one is not a query with a name
of its own, so it is said here once, over the unit's ORM session, which
stays the store's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import SQLModel

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork

M = TypeVar("M", bound=SQLModel)


class Objects:
    """``uow.objects``: get, add, remove, reload and detach model objects within the unit's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get(self, model: type[M], key: Any, for_update: bool = False, fresh: bool = False) -> M | None:
        """The row of ``model`` with primary key ``key`` (a tuple for a composite key), or None.

        ``for_update`` locks it until the unit ends; ``fresh`` reads it again even if the unit holds it.
        """
        return self._uow.session.get(model, key, with_for_update=for_update or None, populate_existing=fresh)

    def add(self, obj: SQLModel, now: bool = False) -> None:
        """Keep ``obj`` (new or changed); with ``now``, send it at once (a row others point at, a clash seen here)."""
        self._uow.session.add(obj)
        if now:
            self._uow.flush()

    def remove(self, obj: SQLModel, now: bool = False) -> None:
        """Delete ``obj``'s row; with ``now``, at once (before a row that replaces it)."""
        self._uow.session.delete(obj)
        if now:
            self._uow.flush()

    def reload(self, obj: SQLModel) -> None:
        """Read ``obj`` again from the database (the columns the database filled in)."""
        self._uow.session.refresh(obj)

    def detach(self, *objs: SQLModel) -> None:
        """Keep ``objs`` readable after the unit ends, and out of its later flushes."""
        for obj in objs:
            self._uow.session.expunge(obj)
