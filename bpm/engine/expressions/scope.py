"""What an expression can see: Refluxo's flattened view of the context, built lazily.

Refluxo flattens the whole context before every step, which costs O(history).
Here a node's view (``output``, ``last``, ``all``) is built only when an
expression names that node, once per step, and ``all`` is a view over the
shared results rather than a copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bpm.engine.context import Context, NodeRun, RunLog
from bpm.engine.undefined import UNDEFINED

RESERVED_NAMES = ("input", "nodes", "globals", "data")


def _run_view(run: NodeRun) -> dict[str, Any]:
    error = run.error
    return {"data": run.output, "timestamp": run.timestamp, "error": UNDEFINED if error is None else error}


class AllRuns(Sequence[dict[str, Any]]):
    """``<node>.all``: every result of a node as ``{data, timestamp, error}``, oldest first."""

    __slots__ = ("_log",)

    def __init__(self, log: RunLog) -> None:
        self._log = log

    def __len__(self) -> int:
        return len(self._log)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_run_view(run) for run in self._log[index]]
        return _run_view(self._log[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (_run_view(run) for run in self._log)


class Scope:
    """The names an expression resolves: ``<id>``, ``nodes.<id>``, ``data``, ``input`` and maybe ``globals``."""

    __slots__ = ("_context", "_globals", "_input", "_names", "_views")

    def __init__(self, context: Context, input_data: Any, globals_: Any = None,
                 expose_globals: bool = False, names: Mapping[str, Any] | None = None) -> None:
        self._context = context
        self._input = input_data
        self._globals = globals_ if expose_globals else UNDEFINED
        self._names = names  # a forEach node's ``item`` and ``itemIndex``, resolved per item
        self._views: dict[str, Any] | None = None

    @property
    def nodes(self) -> NodesView:
        """``nodes.<id>`` access to the same views."""
        return NodesView(self)

    def get(self, name: str, default: Any = UNDEFINED) -> Any:
        """Resolve a top-level identifier; UNDEFINED for a name that means nothing."""
        names = self._names
        if names is not None and name in names:
            return names[name]
        if name == "input":
            return self._input
        if name == "nodes":
            return self.nodes
        if name == "globals":
            return self._globals
        if name == "data":
            request = self._context.request
            return request if request is not None else UNDEFINED
        return self.node(name)

    def node(self, node_id: str) -> Any:
        """Return ``{output, last, all}`` for a node that has run, else UNDEFINED."""
        if self._views is None:
            self._views = {}
        view = self._views.get(node_id)
        if view is None:
            log = self._context.get(node_id) if type(node_id) is str else None
            if not log:
                return UNDEFINED
            last = log.last()
            view = {"output": last.output, "last": _run_view(last), "all": AllRuns(log)}
            self._views[node_id] = view
        return view


class NodesView(Mapping[str, Any]):
    """``nodes.<id>``: Refluxo's namespaced form of the same views."""

    __slots__ = ("_scope",)

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def __getitem__(self, node_id: str) -> Any:
        view = self._scope.node(node_id)
        if view is UNDEFINED:
            raise KeyError(node_id)
        return view

    def get(self, node_id: str, default: Any = UNDEFINED) -> Any:
        """Return the node's view, or ``default`` if it has not run."""
        view = self._scope.node(node_id)
        return default if view is UNDEFINED else view

    def __iter__(self) -> Iterator[str]:
        return iter(self._scope._context)

    def __len__(self) -> int:
        return len(self._scope._context)
