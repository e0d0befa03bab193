"""Paging shared by every list: page numbers are 1-based, a page knows where it is (``Page``).

Numbers typed into a query string or a form are read here too: ``str.isdigit`` says yes to "¹" and "٣",
which ``int`` then refuses or reads as something else, so a number is ASCII digits (``digits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
MOST_PAGES = 9_999


def digits(text: str) -> bool:
    """True for a non-empty run of the digits 0-9, nothing else."""
    return text.isascii() and text.isdigit()


def page_number(raw: str | None) -> int:
    """The page a query string asks for: 1 unless it names one from 1 to ``MOST_PAGES``."""
    return int(raw) if raw and digits(raw) and 0 < int(raw) <= MOST_PAGES else 1


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, how many match in all, and where it is among the pages (1-based)."""

    items: Sequence[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages the list has (1 when it is empty: "page 1 of 1")."""
        return max(1, -(-self.total // self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None
