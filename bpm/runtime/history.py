"""History deltas: each revision stores its snapshot header and only the results it added.

Storing the whole snapshot per revision would make a long-running loop cost
O(n²) in storage; a delta is O(what changed), and folding the deltas in
revision order rebuilds the snapshot of any revision exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bpm.engine import Snapshot


@dataclass(frozen=True, slots=True)
class Deed:
    """Who did what, and where: what an action says of a history entry (the instance says the rest)."""

    actor: str
    cause: str
    node_id: str | None = None  # a task event takes its task's node
    changes: Mapping[str, Any] | None = None  # field -> [old, new], and what else the entry should keep
    on_behalf_of: str | None = None  # whom a delegate acted for

    def with_changes(self, more: Mapping[str, Any]) -> Deed:
        """The same deed with ``more`` changes besides its own."""
        return Deed(self.actor, self.cause, self.node_id, {**(self.changes or {}), **more}, self.on_behalf_of)


def snapshot_delta(before: Snapshot | None, after: Snapshot) -> dict[str, Any]:
    """What ``after`` adds to ``before``: its header and the new results per node."""
    header = after.to_dict()
    del header["context"]
    appended: dict[str, list[dict[str, Any]]] = {}
    for node_id, log in after.context.items():
        known = len(before.context.get(node_id, ())) if before is not None else 0
        if len(log) > known:
            appended[node_id] = [run.to_dict() for run in log[known:]]
    return {"header": header, "appended": appended}


def rebuild_snapshot(deltas: Iterable[dict[str, Any]]) -> Snapshot:
    """Fold deltas (oldest first) back into the snapshot of the last one."""
    context: dict[str, list[dict[str, Any]]] = {}
    header: dict[str, Any] | None = None
    for delta in deltas:
        if "header" not in delta:
            continue  # a task event: it changed no snapshot
        header = delta["header"]
        for node_id, runs in delta["appended"].items():
            context.setdefault(node_id, []).extend(runs)
    if header is None:
        raise ValueError("no history to rebuild from")
    return Snapshot.from_dict({**header, "context": context})
