"""Paging shared by every list: page numbers are 1-based and offsets stay within what a database accepts."""

from __future__ import annotations

MAX_OFFSET = 2**31 - 1


def window(page: int, page_size: int) -> tuple[int, int] | None:
    """``(offset, limit)`` for a page, or None when the page lies past anything that can exist."""
    offset = (page - 1) * page_size
    if page < 1 or page_size < 1 or offset > MAX_OFFSET:
        return None
    return offset, page_size
