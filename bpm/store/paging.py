"""One page of a query, and its total: offsets kept within what a database accepts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

MAX_OFFSET = 2**31 - 1


def window(page: int, page_size: int) -> tuple[int, int] | None:
    """``(offset, limit)`` for a page, or None when the page lies past anything that can exist."""
    offset = (page - 1) * page_size
    if page < 1 or page_size < 1 or offset > MAX_OFFSET:
        return None
    return offset, page_size


def paginate(session: Any, query: Any, order_by: tuple[Any, ...], page: int, page_size: int) -> tuple[list[Any], int]:
    """One page of ``query`` in ``order_by`` order, and how many rows match in all."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    bounds = window(page, page_size)
    if bounds is None:
        return [], total
    return list(session.exec(query.order_by(*order_by).offset(bounds[0]).limit(bounds[1])).all()), total
