"""Snapshot: the whole state of one run, immutable, in Refluxo's wire format.

A NamedTuple rather than a frozen dataclass: it is created on every step and a
tuple is built four times faster, which is most of a step's budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

import orjson

from bpm.engine.context import Context, NodeRun, RunLog
from bpm.engine.errors import Problem, SnapshotError
from bpm.engine.jsonvalue import NotJsonError, to_json_value
from bpm.engine.positions import Position, parse_joins, parse_positions
from bpm.engine.undefined import UNDEFINED


class RunStatus(StrEnum):
    """A run's status, as Refluxo names it."""

    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"
    COMPLETED = "completed"
    FAILED = "failed"


# plain str values: the cheapest to compare and to store
ACTIVE, PAUSED, ERROR, COMPLETED, FAILED = (status.value for status in RunStatus)
STATUSES = (ACTIVE, PAUSED, ERROR, COMPLETED, FAILED)
FINISHED = (COMPLETED, FAILED)

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_KEYS = {"workflowId", "status", "currentNodeId", "context", "version", "lastStartedAt",
         "totalExecutionTime", "metadata", "retryState", "data", "positions", "joins"}


class RetryState(NamedTuple):
    """Which node is being retried, how many attempts it has had, and when to try next."""

    node_id: str
    attempts: int
    next_retry_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the retry state in wire format."""
        out: dict[str, Any] = {"nodeId": self.node_id, "attempts": self.attempts}
        if self.next_retry_at is not None:
            out["nextRetryAt"] = self.next_retry_at
        return out


class Snapshot(NamedTuple):
    """The state of a run after a step. Never mutated: every step makes a new one.

    The last three fields are ours, not Refluxo's, and a run that uses none of
    them writes Refluxo's snapshot byte for byte: ``data`` holds the fields of
    the request's data that steps wrote (over the start node's output; see
    ``bpm.engine.data``), ``positions`` every place a run with parallel
    branches is at, and ``joins`` the arrivals its joins have counted
    (``bpm.engine.positions``).
    """

    workflow_id: str
    status: str
    current_node_id: str | None
    context: Context
    version: int = 0
    last_started_at: int | None = None
    total_execution_time: int | float | None = None
    metadata: Mapping[str, Any] = _EMPTY
    retry_state: RetryState | None = None
    data: Mapping[str, Any] | None = None
    positions: tuple[Position, ...] | None = None
    joins: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None

    @property
    def finished(self) -> bool:
        """True once the run is completed or failed and nothing can resume it."""
        return self.status in FINISHED

    @property
    def paused_at(self) -> tuple[str, ...]:
        """The nodes that wait for an external payload (a task, a timer): one, or one per paused branch."""
        if self.positions is None:
            return (self.current_node_id,) if self.status == PAUSED and self.current_node_id is not None else ()
        if self.status in FINISHED:
            return ()
        return tuple(dict.fromkeys(p.node_id for p in self.positions if p.status == PAUSED))

    @property
    def at_nodes(self) -> tuple[str, ...]:
        """Every node the run is at now (one, or one per branch), for diagrams and lists."""
        if self.positions is None:
            return (self.current_node_id,) if self.current_node_id is not None and not self.finished else ()
        return tuple(dict.fromkeys(p.node_id for p in self.positions))

    def to_dict(self) -> dict[str, Any]:
        """Return the snapshot in Refluxo's wire format: camelCase, optional keys omitted, Refluxo's key order."""
        out: dict[str, Any] = {
            "workflowId": self.workflow_id,
            "status": self.status,
            "currentNodeId": self.current_node_id,
            "context": self.context.to_dict(),
            "version": self.version,
            "metadata": dict(self.metadata),
        }
        if self.last_started_at is not None:
            out["lastStartedAt"] = self.last_started_at
        if self.total_execution_time is not None:
            out["totalExecutionTime"] = self.total_execution_time
        if self.retry_state is not None:
            out["retryState"] = self.retry_state.to_dict()
        if self.data is not None:
            out["data"] = dict(self.data)
        if self.positions is not None:
            out["positions"] = [position.to_dict() for position in self.positions]
        if self.joins is not None:
            out["joins"] = {join: {key: dict(record) for key, record in by_fork.items()}
                            for join, by_fork in self.joins.items()}
        return out

    def to_json(self) -> bytes:
        """Serialize to compact JSON bytes."""
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        """Load a snapshot from JSON text, raising SnapshotError if it is malformed."""
        try:
            raw = orjson.loads(text)
        except (orjson.JSONDecodeError, TypeError) as exc:
            raise SnapshotError([Problem("$", f"not valid JSON: {exc}")]) from None
        return cls._load(raw, owned=True)

    @classmethod
    def from_dict(cls, raw: Any, *, copy: bool = True) -> Snapshot:
        """Load a snapshot from its wire form, raising SnapshotError with every problem found.

        The snapshot gets its own copy of every value, so ``raw`` may be reused;
        ``copy=False`` takes the values over instead, for a dict just decoded
        (from JSON or a database column) that nobody else will change.
        """
        return cls._load(raw, owned=not copy)

    @classmethod
    def _load(cls, raw: Any, owned: bool) -> Snapshot:
        problems: list[Problem] = []
        snapshot = _parse_snapshot(raw, problems, owned)
        if snapshot is None or problems:
            raise SnapshotError(problems or [Problem("$", "malformed snapshot")])
        return snapshot


def _is_int(value: Any) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _parse_snapshot(raw: Any, problems: list[Problem], owned: bool) -> Snapshot | None:
    """Check every field; ``owned`` means ``raw`` was just decoded from JSON and needs no copy."""
    if not isinstance(raw, Mapping):
        problems.append(Problem("$", "a snapshot must be a JSON object"))
        return None
    for key in raw:
        if key not in _KEYS:
            problems.append(Problem(f"$.{key}", "unknown snapshot field"))
    workflow_id = raw.get("workflowId")
    if not isinstance(workflow_id, str):
        problems.append(Problem("$.workflowId", "must be a string"))
    status = raw.get("status")
    if status not in STATUSES:
        problems.append(Problem("$.status", f"must be one of {', '.join(STATUSES)}"))
    current = raw.get("currentNodeId")
    if current is not None and not isinstance(current, str):
        problems.append(Problem("$.currentNodeId", "must be a string or null"))
    version = raw.get("version")
    if not _is_int(version) or version < 0:
        problems.append(Problem("$.version", "must be a whole number >= 0"))
    started = _optional_int(raw, "lastStartedAt", problems)
    total = raw.get("totalExecutionTime")
    if total is not None and (type(total) not in (int, float) or total < 0):
        problems.append(Problem("$.totalExecutionTime", "must be a number >= 0"))
    metadata = _parse_metadata(raw.get("metadata", {}), problems, owned)
    context = _parse_context(raw.get("context"), problems, owned)
    retry = _parse_retry_state(raw.get("retryState"), problems)
    data = _parse_data(raw.get("data"), problems, owned)
    positions = parse_positions(raw.get("positions"), problems)
    joins = parse_joins(raw.get("joins"), problems)
    if problems:
        return None
    return Snapshot(workflow_id, status, current, context, int(version), started, total,
                    metadata, retry, data, positions, joins)


def _parse_data(raw: Any, problems: list[Problem], owned: bool) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    return _parse_object(raw, "$.data", "must be an object of the request's fields", problems, owned)


def _optional_int(raw: Mapping[str, Any], key: str, problems: list[Problem], path: str = "$") -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if not _is_int(value):
        problems.append(Problem(f"{path}.{key}", "must be a whole number of epoch milliseconds"))
        return None
    return int(value)


def _parse_metadata(raw: Any, problems: list[Problem], owned: bool) -> Mapping[str, Any]:
    found = _parse_object(raw, "$.metadata", "must be an object", problems, owned)
    return _EMPTY if found is None else found


def _parse_object(raw: Any, path: str, message: str, problems: list[Problem], owned: bool
                  ) -> Mapping[str, Any] | None:
    """An object field (``metadata``, ``data``): read-only, copied unless ``owned``; None with a problem if bad."""
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, message))
        return None
    if owned:
        return MappingProxyType(raw)
    try:
        return MappingProxyType(to_json_value(raw, path))
    except NotJsonError as exc:
        problems.append(Problem(exc.path, "not a JSON value"))
        return None


def _parse_context(raw: Any, problems: list[Problem], owned: bool) -> Context:
    if not isinstance(raw, Mapping):
        problems.append(Problem("$.context", "must be an object mapping node ids to result lists"))
        return Context()
    logs: dict[str, RunLog] = {}
    for node_id, runs in raw.items():
        path = f"$.context.{node_id}"
        if not isinstance(runs, list):
            problems.append(Problem(path, "must be a list of results"))
            continue
        parsed = [_parse_run(run, node_id, i, problems, owned) for i, run in enumerate(runs)]
        logs[node_id] = RunLog(parsed, len(parsed))  # type: ignore[arg-type]
    return Context(logs)


_RUN_KEYS = frozenset(("output", "timestamp", "error", "attempt"))


def _parse_run(raw: Any, node_id: str, i: int, problems: list[Problem], owned: bool) -> NodeRun | None:
    if type(raw) is dict and raw.keys() <= _RUN_KEYS:
        timestamp, attempt, error = raw.get("timestamp"), raw.get("attempt", 1), raw.get("error")
        if (type(timestamp) is int and type(attempt) is int and attempt >= 1
                and (error is None or type(error) is str)):
            output = raw.get("output", UNDEFINED)
            if owned:
                return NodeRun(output, timestamp, attempt, error)
            try:
                return NodeRun(to_json_value(output), timestamp, attempt, error)
            except NotJsonError:
                pass
    return _report_run(raw, f"$.context.{node_id}[{i}]", problems)


def _report_run(raw: Any, path: str, problems: list[Problem]) -> NodeRun | None:
    """The slow path: say exactly what is wrong with a result (floats like 3.0 are accepted)."""
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, "a result must be an object"))
        return None
    before = len(problems)
    for key in raw:
        if key not in _RUN_KEYS:
            problems.append(Problem(f"{path}.{key}", "unknown result field"))
    timestamp = raw.get("timestamp")
    if not _is_int(timestamp):
        problems.append(Problem(f"{path}.timestamp", "must be a whole number of epoch milliseconds"))
    attempt = raw.get("attempt", 1)
    if not _is_int(attempt) or attempt < 1:
        problems.append(Problem(f"{path}.attempt", "must be a whole number >= 1"))
    error = raw.get("error")
    if error is not None and not isinstance(error, str):
        problems.append(Problem(f"{path}.error", "must be a string"))
    try:
        output = to_json_value(raw.get("output", UNDEFINED), f"{path}.output")
    except NotJsonError as exc:
        problems.append(Problem(exc.path, "not a JSON value"))
        return None
    if len(problems) > before:
        return None
    return NodeRun(output, int(timestamp), int(attempt), error)


def _parse_retry_state(raw: Any, problems: list[Problem]) -> RetryState | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(Problem("$.retryState", "must be an object"))
        return None
    node_id = raw.get("nodeId")
    if not isinstance(node_id, str):
        problems.append(Problem("$.retryState.nodeId", "must be a string"))
    attempts = raw.get("attempts")
    if not _is_int(attempts) or attempts < 0:
        problems.append(Problem("$.retryState.attempts", "must be a whole number >= 0"))
    next_at = _optional_int(raw, "nextRetryAt", problems, "$.retryState")
    if problems:
        return None
    return RetryState(node_id, int(attempts), next_at)
