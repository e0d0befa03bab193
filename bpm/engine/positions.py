"""Where a run with parallel branches stands: its positions (tokens) and its joins' arrivals.

A run with one position needs none of this: its snapshot is Refluxo's, with
``currentNodeId`` alone. Only while branches run side by side does the
snapshot carry ``positions`` and ``joins`` (optional keys, which Refluxo's
engine carries along unchanged when it spreads a snapshot).

Each position remembers the forks it came through, innermost last, as
``ForkMark(fork="<fork id>#<run>", branch, of)``: a join counts arrivals per
activation of its fork (the fork's run number), so a loop through a fork
never mixes the branches of one pass with those of the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from bpm.engine.errors import Problem

ACTIVE = "active"  # runs at the next step
PAUSED = "paused"  # waits for an external payload (a task, a timer)
ERROR = "error"  # failed with attempts left; runs again when the run is resumed
WAITING = "waiting"  # arrived at a join that has not fired yet
POSITION_STATUSES = (ACTIVE, PAUSED, ERROR, WAITING)


class ForkMark(NamedTuple):
    """Which branch of which fork activation a position belongs to."""

    fork: str  # "<fork node id>#<its run number>"
    branch: int
    of: int

    def to_dict(self) -> dict[str, Any]:
        """Return the mark in wire format."""
        return {"fork": self.fork, "branch": self.branch, "of": self.of}


class Position(NamedTuple):
    """One place a run is at: a node, its state there, and the forks it came through."""

    id: str
    node_id: str
    status: str
    forks: tuple[ForkMark, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the position in wire format (``forks`` left out when there are none)."""
        out: dict[str, Any] = {"id": self.id, "nodeId": self.node_id, "status": self.status}
        if self.forks:
            out["forks"] = [mark.to_dict() for mark in self.forks]
        return out


def nodes_at(snapshot: Mapping[str, Any]) -> list[str]:
    """Every node a snapshot in wire form is at (one per branch; a failed run, where it stopped), read cheaply."""
    positions = snapshot.get("positions")
    if isinstance(positions, list):
        return list(dict.fromkeys(p["nodeId"] for p in positions if isinstance(p, Mapping) and "nodeId" in p))
    node = snapshot.get("currentNodeId")
    return [node] if isinstance(node, str) and snapshot.get("status") != "completed" else []


def parse_positions(raw: Any, problems: list[Problem]) -> tuple[Position, ...] | None:
    """Read ``positions`` from the wire, adding a problem per bad field."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("$.positions", "must be a non-empty list of positions"))
        return None
    positions = []
    for i, item in enumerate(raw):
        path = f"$.positions[{i}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(path, "a position must be an object"))
            continue
        pid, node_id, status = item.get("id"), item.get("nodeId"), item.get("status")
        if not isinstance(pid, str) or not isinstance(node_id, str):
            problems.append(Problem(path, "needs a string id and nodeId"))
            continue
        if status not in POSITION_STATUSES:
            problems.append(Problem(f"{path}.status", f"must be one of {', '.join(POSITION_STATUSES)}"))
            continue
        positions.append(Position(pid, node_id, status, _parse_marks(item.get("forks", []), path, problems)))
    return tuple(positions)


def _parse_marks(raw: Any, path: str, problems: list[Problem]) -> tuple[ForkMark, ...]:
    if not isinstance(raw, list):
        problems.append(Problem(f"{path}.forks", "must be a list"))
        return ()
    marks = []
    for j, mark in enumerate(raw):
        ok = (isinstance(mark, Mapping) and isinstance(mark.get("fork"), str)
              and type(mark.get("branch")) is int and type(mark.get("of")) is int
              and 0 <= mark["branch"] < mark["of"])
        if not ok:
            problems.append(Problem(f"{path}.forks[{j}]", "must be {fork, branch, of} with 0 <= branch < of"))
            continue
        marks.append(ForkMark(mark["fork"], mark["branch"], mark["of"]))
    return tuple(marks)


def parse_joins(raw: Any, problems: list[Problem]) -> dict[str, dict[str, dict[str, Any]]] | None:
    """Read ``joins`` (join id -> fork activation -> ``{arrived: [branch], fired}``) from the wire."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(Problem("$.joins", "must be an object"))
        return None
    joins: dict[str, dict[str, dict[str, Any]]] = {}
    for join_id, by_fork in raw.items():
        if not isinstance(by_fork, Mapping):
            problems.append(Problem(f"$.joins.{join_id}", "must be an object"))
            continue
        for key, record in by_fork.items():
            arrived = record.get("arrived") if isinstance(record, Mapping) else None
            if not (isinstance(arrived, list) and all(type(b) is int for b in arrived)
                    and type(record.get("fired", False)) is bool):
                problems.append(Problem(f"$.joins.{join_id}.{key}", "must be {arrived: [branch], fired}"))
                continue
            joins.setdefault(join_id, {})[key] = {"arrived": list(arrived), "fired": record.get("fired", False)}
    return joins
