"""Paging shared by every list: page numbers are 1-based and offsets stay within what a database accepts.

Numbers typed into a query string or a form are read here too: ``str.isdigit`` says yes to "¹" and "٣",
which ``int`` then refuses or reads as something else, so a number is ASCII digits (``digits``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

MAX_OFFSET = 2**31 - 1
MOST_PAGES = 9_999


def digits(text: str) -> bool:
    """True for a non-empty run of the digits 0-9, nothing else."""
    return text.isascii() and text.isdigit()


def page_number(raw: str | None) -> int:
    """The page a query string asks for: 1 unless it names one from 1 to ``MOST_PAGES``."""
    return int(raw) if raw and digits(raw) and 0 < int(raw) <= MOST_PAGES else 1


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
