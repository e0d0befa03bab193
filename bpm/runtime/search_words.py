"""The words a request is found by in the auditor's search: its reference and the text of its start form.

Kept apart from the instance row (``instance_text``), written once with the start, so the search can index
them without every step paying for an index on the row it rewrites. Decisions' text and step titles are read
from the task rows, which are written once each.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_WORDS = 8000  # characters: enough for every text a start form holds; the rest is not searched


def texts_in(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string in a form's data (nested objects and lists too), in order."""
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif depth < 16 and isinstance(value, dict):
        for item in value.values():
            yield from texts_in(item, depth + 1)
    elif depth < 16 and isinstance(value, list):
        for item in value:
            yield from texts_in(item, depth + 1)


def words_of(business_key: str | None, start_data: Any) -> str:
    """The searchable text of a request: its reference, then its start form's text, one per line."""
    return "\n".join([business_key or "", *texts_in(start_data)])[:MAX_WORDS]
