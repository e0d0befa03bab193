"""The request's data: the start form's values, with what later steps wrote laid over them.

Expressions read it as ``data.<field>``. The start node's output is already in
the context, so a run whose steps write nothing carries no copy of it and its
snapshot stays Refluxo's; a step that writes (``NodeResult(writes=...)``) puts
only the written fields into the snapshot's ``data``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bpm.engine.context import Context


class RequestData(Mapping[str, Any]):
    """``data``: read-through view of the written fields over the start node's output."""

    __slots__ = ("_base", "_context", "_start_id", "_written")

    def __init__(self, context: Context, start_id: str | None, written: Mapping[str, Any] | None) -> None:
        self._context = context
        self._start_id = start_id
        self._written = written
        self._base: Mapping[str, Any] | None = None

    def _start(self) -> Mapping[str, Any]:
        if self._base is None:
            self._base = start_output(self._context, self._start_id)
        return self._base

    def __getitem__(self, name: str) -> Any:
        written = self._written
        if written is not None and name in written:
            return written[name]
        return self._start()[name]

    def __iter__(self) -> Iterator[str]:
        base = self._start()
        yield from base
        if self._written is not None:
            yield from (name for name in self._written if name not in base)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def start_output(context: Mapping[str, Any], start_id: str | None) -> Mapping[str, Any]:
    """The start node's output (the start form's values), or nothing."""
    log = context.get(start_id) if start_id is not None else None
    last = log.last() if log else None
    output = last.output if last is not None else None
    return output if isinstance(output, Mapping) else {}


def request_data_of(snapshot: Mapping[str, Any], start_id: str | None) -> dict[str, Any]:
    """The request's data of a snapshot in wire form (as stored), read without loading it."""
    runs = (snapshot.get("context") or {}).get(start_id or "", [])
    last = runs[-1].get("output") if runs and isinstance(runs[-1], Mapping) else None
    written = snapshot.get("data")
    return {**(last if isinstance(last, Mapping) else {}), **(written if isinstance(written, Mapping) else {})}


def request_data(context: Mapping[str, Any], start_id: str | None, written: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request's data as one plain dict (for pages, the API and history)."""
    return {**start_output(context, start_id), **(written or {})}
