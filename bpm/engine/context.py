"""The execution context: every result of every node, shared between snapshots.

Refluxo copies a node's result list on every step, so a loop of n iterations
costs O(n^2). Here each node's results live in an append-only list shared by
all snapshots of one run; a snapshot sees a prefix of it (its own length).
Appending to the newest prefix is O(1); appending to an older prefix (two
branches resumed from one snapshot) copies that prefix once, so neither branch
ever sees the other's results.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, NamedTuple, overload

from bpm.engine.undefined import UNDEFINED

_append_lock = threading.Lock()


class NodeRun(NamedTuple):
    """One execution result of a node, as Refluxo records it.

    ``output`` is UNDEFINED when the node returned no data: the wire form then
    has no ``output`` key, as Refluxo's JSON has none.
    """

    output: Any
    timestamp: int
    attempt: int = 1
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the result in wire format, keys in the order Refluxo writes them."""
        if self.error is None:
            if self.output is UNDEFINED:
                return {"timestamp": self.timestamp, "attempt": self.attempt}
            return {"output": self.output, "timestamp": self.timestamp, "attempt": self.attempt}
        if self.output is UNDEFINED:
            return {"error": self.error, "timestamp": self.timestamp, "attempt": self.attempt}
        return {"output": self.output, "error": self.error, "timestamp": self.timestamp,
                "attempt": self.attempt}


class RunLog(Sequence[NodeRun]):
    """A read-only view of the first ``len`` results in a shared append-only list."""

    __slots__ = ("_items", "_len")

    def __init__(self, items: list[NodeRun], length: int) -> None:
        self._items = items
        self._len = length

    def appended(self, run: NodeRun) -> RunLog:
        """Return a log with ``run`` added, leaving this one as it was."""
        items = self._items
        with _append_lock:
            if len(items) == self._len:
                items.append(run)
                return RunLog(items, self._len + 1)
        fork = items[: self._len]
        fork.append(run)
        return RunLog(fork, self._len + 1)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> NodeRun: ...
    @overload
    def __getitem__(self, index: slice) -> list[NodeRun]: ...
    def __getitem__(self, index: int | slice) -> NodeRun | list[NodeRun]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)  # O(slice), not O(history)
            return self._items[start:stop:step]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("run index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[NodeRun]:
        return islice(self._items, self._len)

    def last(self) -> NodeRun | None:
        """Return the newest result, or None before the node has run."""
        return self._items[self._len - 1] if self._len else None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RunLog):
            return self._len == other._len and (
                self._items is other._items or list(self) == list(other))
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RunLog({list(self)!r})"


class Context(Mapping[str, RunLog]):
    """Read-only mapping from node id to that node's results, oldest first.

    ``request`` is the request's data (``bpm.engine.data.RequestData``) as the
    engine hands it to a step's transforms and executor; a context read from a
    snapshot has none.
    """

    __slots__ = ("_logs", "request")

    def __init__(self, logs: dict[str, RunLog] | None = None, request: Mapping[str, Any] | None = None) -> None:
        self._logs = logs if logs is not None else {}
        self.request = request

    def carrying(self, request: Mapping[str, Any]) -> Context:
        """The same results, with the request's data a step may read."""
        return Context(self._logs, request)

    @classmethod
    def from_runs(cls, runs: Mapping[str, Sequence[NodeRun]]) -> Context:
        """Build a context from plain lists of results."""
        return cls({node_id: RunLog(list(items), len(items)) for node_id, items in runs.items()})

    def appended(self, node_id: str, run: NodeRun) -> Context:
        """Return a context with ``run`` added to ``node_id``'s results."""
        logs = self._logs.copy()
        log = logs.get(node_id)
        logs[node_id] = log.appended(run) if log is not None else RunLog([run], 1)
        return Context(logs)

    def __getitem__(self, node_id: str) -> RunLog:
        return self._logs[node_id]

    def get(self, node_id: str, default: Any = None) -> Any:
        """Return the node's results, or ``default`` if it has not run."""
        return self._logs.get(node_id, default)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._logs

    def __iter__(self) -> Iterator[str]:
        return iter(self._logs)

    def __len__(self) -> int:
        return len(self._logs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Context):
            return self._logs == other._logs
        if isinstance(other, Mapping):
            return dict(self._logs) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """Return the context in wire format."""
        return {node_id: [run.to_dict() for run in log] for node_id, log in self._logs.items()}

    def __repr__(self) -> str:
        return f"Context({dict(self._logs)!r})"
