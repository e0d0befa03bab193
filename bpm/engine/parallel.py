"""Parallel branches: a step of a run that is at several places at once.

Refluxo runs one node at a time, and so does this: each step runs the first
active position, in a fixed order (the order the fork's edges are written
in). A fork (``NodeResult(branches=...)``) replaces its position by one per
edge taken; a join (a node type whose metadata says ``"role": "join"``)
is handed its arrivals as the payload — ``{"arrived": [branch, ...], "of": n}``
— and pauses until enough have come: a paused join holds a ``waiting``
position, which no payload resumes. When it fires, the waiting positions of
that fork activation are consumed and one position goes on; an output with
``"cancelRemaining": true`` also ends every other position of the activation.
Arrivals after the join fired, and a branch arriving a second time, are
dropped. When one position outside any fork is left, the snapshot is
Refluxo's again (no ``positions``, no ``joins``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bpm.engine.context import Context, NodeRun
from bpm.engine.errors import EngineError
from bpm.engine.node import EVERY_EXIT, NodeResult
from bpm.engine.positions import ACTIVE, ERROR, PAUSED, WAITING, ForkMark, Position
from bpm.engine.snapshot import COMPLETED, FAILED, Snapshot

if TYPE_CHECKING:
    from bpm.engine.engine import WorkflowEngine

PAUSED_RUN = object()
"""What ``WorkflowEngine._run`` gives as the output of a node that paused."""

Joins = dict[str, dict[str, dict[str, Any]]]


def lone_arrival() -> dict[str, Any]:
    """The payload of a join reached outside any fork: one branch of one, so it fires."""
    return {"arrived": [0], "of": 1}


def resume(snapshot: Snapshot, node_id: str | None, with_payload: bool) -> Snapshot:
    """Make a paused or errored run of several positions active again.

    With a payload, the first paused position at ``node_id`` takes it (and
    runs first); errored positions are retried in any case.
    """
    positions = list(snapshot.positions or ())
    target = None
    if with_payload:
        wanted = node_id or snapshot.current_node_id
        target = next((i for i, p in enumerate(positions) if p.node_id == wanted and p.status == PAUSED), None)
        if target is None:
            raise EngineError(f"no branch of the run waits at node '{wanted}'")
        positions.insert(0, positions.pop(target)._replace(status=ACTIVE))
    positions = [p._replace(status=ACTIVE) if p.status == ERROR else p for p in positions]
    first = positions[0] if target is not None else next((p for p in positions if p.status == ACTIVE), positions[0])
    return snapshot._replace(positions=tuple(positions), current_node_id=first.node_id)


def step(engine: WorkflowEngine, snapshot: Snapshot, payload: Any, globals: Any) -> Snapshot:
    """Run the first active position's node and settle where the run is after it."""
    picked = _pick(snapshot.positions or ())
    if picked is None:
        return _settle(snapshot, list(snapshot.positions or ()), snapshot.joins)
    index, position, rest = picked
    node_id = position.node_id
    mark = position.forks[-1] if position.forks else None
    is_join = node_id in engine._join_ids
    joins: Mapping[str, Any] | None = snapshot.joins
    if is_join:
        joins = {k: dict(v) for k, v in (joins or {}).items()}  # changed in place below, never the snapshot's
        payload, dropped = _arrival(joins, node_id, mark)
        if dropped:  # the branch ends here, unrecorded in the context: the join has counted it or fired
            return _settle(snapshot, rest, joins)
    ran = engine._run(snapshot, node_id, payload, globals)
    if type(ran) is Snapshot:
        return _stopped(ran, position, index, rest, joins, is_join)
    output, result, attempt, now, total = ran
    if output is PAUSED_RUN:
        if is_join:  # a waiting position never runs again: out of the way, at the end
            rest.append(Position(position.id, node_id, WAITING, position.forks))
        else:
            rest.insert(index, Position(position.id, node_id, PAUSED, position.forks))
        return _settle(snapshot, rest, joins, times=(now, total))
    context = snapshot.context.appended(node_id, NodeRun(output, engine.clock.now_ms(), attempt))
    data = snapshot.data if result.writes is None else engine._written(snapshot, node_id, result)
    forks = position.forks
    if is_join and mark is not None:
        rest = _fire(joins, node_id, mark, rest, output)  # type: ignore[arg-type]
        forks = forks[:-1]
    retry = snapshot.retry_state
    if retry is not None and retry.node_id == node_id:
        retry = None
    if result.branches is not None:
        rest[index:index] = _branches(engine, node_id, result.branches, len(context[node_id]), forks)
    else:
        next_id = engine.workflow.next_node_id(node_id, result.next_handle)
        if next_id is not None:
            pid = position.id if forks is position.forks else f"{node_id}#{len(context[node_id])}"
            rest.insert(index, Position(pid, next_id, ACTIVE, forks))
    return _moved(snapshot, rest, joins, context, now, total, data, retry)


def _pick(positions: tuple[Position, ...]) -> tuple[int, Position, list[Position]] | None:
    """The first active position, its index, and the others in order."""
    if positions and positions[0].status == ACTIVE:  # the common case
        return 0, positions[0], list(positions[1:])
    index = next((i for i, p in enumerate(positions) if p.status == ACTIVE), None)
    if index is None:
        return None
    return index, positions[index], [*positions[:index], *positions[index + 1:]]


def _stopped(ran: Snapshot, position: Position, index: int, rest: list[Position], joins: Mapping[str, Any] | None,
             is_join: bool) -> Snapshot:
    """A position's node failed; the run goes on with the others where it can (with attempts left)."""
    node_id = position.node_id
    rest.insert(index, Position(position.id, node_id, ERROR, position.forks))
    if ran.status == ERROR:
        return _settle(ran, rest, joins)
    return ran._replace(positions=tuple(rest), joins=_frozen(joins))  # failed for good: the run stops there


def fork(engine: WorkflowEngine, snapshot: Snapshot, node_id: str, result: NodeResult, context: Context,
         data: Mapping[str, Any] | None, now: int, total: int | float) -> Snapshot:
    """A sequential run forks: its one position becomes one per edge taken."""
    branches = _branches(engine, node_id, result.branches, len(context[node_id]), ())
    return _moved(snapshot, branches, None, context, now, total, data, None)


def _moved(snapshot: Snapshot, positions: list[Position], joins: Mapping[str, Any] | None, context: Context,
           now: int, total: int | float, data: Mapping[str, Any] | None, retry: Any) -> Snapshot:
    """The snapshot after a node completed: built directly, as the sequential step does (``_replace`` is slow)."""
    first = positions[0] if positions else None
    if first is not None and first.status == ACTIVE:
        several = len(positions) > 1 or first.forks
        return Snapshot(snapshot.workflow_id, ACTIVE, first.node_id, context, snapshot.version + 1, now, total,
                        snapshot.metadata, retry, data, tuple(positions) if several else None,
                        _frozen(joins) if several else None)
    return _settle(snapshot, positions, joins, context=context, version=snapshot.version + 1, last_started_at=now,
                   total_execution_time=total, data=data, retry_state=retry)


def _branches(engine: WorkflowEngine, node_id: str, wanted: Any, run: int,
              forks: tuple[ForkMark, ...]) -> list[Position]:
    """One position per edge the fork takes, each marked with this activation of the fork."""
    edges = engine._edges_from.get(node_id, ())
    if wanted is not EVERY_EXIT:
        edges = tuple(edge for edge in edges if isinstance(wanted, tuple) and edge.source_handle in wanted)
    key = f"{node_id}#{run}"
    return [Position(f"{key}.{i}", edge.target, ACTIVE, (*forks, ForkMark(key, i, len(edges))))
            for i, edge in enumerate(edges)]


def _arrival(joins: Joins, join_id: str, mark: ForkMark | None) -> tuple[dict[str, Any], bool]:
    """The join's payload for this arrival, and whether the arrival is dropped (late, or a second time)."""
    if mark is None:
        return lone_arrival(), False
    by_fork = joins.setdefault(join_id, {})
    record = by_fork.get(mark.fork) or {"arrived": [], "fired": False}
    if mark.branch in record["arrived"]:
        return {}, True
    arrived = [*record["arrived"], mark.branch]
    if record["fired"]:
        if len(arrived) >= mark.of:
            del by_fork[mark.fork]  # every branch is accounted for: nothing more will come
        else:
            by_fork[mark.fork] = {"arrived": arrived, "fired": True}
        if not by_fork:
            del joins[join_id]
        return {}, True
    by_fork[mark.fork] = {"arrived": arrived, "fired": False}
    return {"arrived": arrived, "of": mark.of}, False


def _fire(joins: Joins, join_id: str, mark: ForkMark, rest: list[Position], output: Any) -> list[Position]:
    """The join fired: its waiting positions of this activation go, and with cancelRemaining every other one."""
    by_fork = joins.get(join_id, {})
    record = by_fork.get(mark.fork, {"arrived": [], "fired": False})
    cancel = isinstance(output, Mapping) and output.get("cancelRemaining") is True

    def consumed(p: Position) -> bool:
        if cancel:
            return any(m.fork == mark.fork for m in p.forks)
        return p.node_id == join_id and p.status == WAITING and bool(p.forks) and p.forks[-1].fork == mark.fork

    if cancel or len(record["arrived"]) >= mark.of:
        by_fork.pop(mark.fork, None)  # nothing more can arrive for this activation
    else:
        by_fork[mark.fork] = {"arrived": record["arrived"], "fired": True}
    if not by_fork:
        joins.pop(join_id, None)
    return [p for p in rest if not consumed(p)]


def _settle(snapshot: Snapshot, positions: list[Position], joins: Mapping[str, Any] | None,
            times: tuple[int, int | float] | None = None, **changes: Any) -> Snapshot:
    """The run's status and ``currentNodeId`` from its positions; one plain position is Refluxo's snapshot again.

    ``times``: the step's ``lastStartedAt`` and ``totalExecutionTime``; ``changes``: other fields it changed.
    """
    base = snapshot._replace(**changes) if changes else snapshot
    if not positions:
        return _at(base, COMPLETED, None, None, None)
    first = positions[0]
    if first.status != ACTIVE:  # the common case is the first position about to run
        first = next((p for p in positions if p.status == ACTIVE), None) \
            or next((p for p in positions if p.status == ERROR), None) \
            or next((p for p in positions if p.status == PAUSED), None)
        if first is None:
            stuck = positions[0].node_id
            reason = f"the join '{stuck}' waits for branches that can no longer reach it"
            return _at(base._replace(metadata=MappingProxyType({**snapshot.metadata, "failedReason": reason})),
                       FAILED, stuck, tuple(positions), _frozen(joins))
    if len(positions) == 1 and not first.forks:
        return _at(base, first.status, first.node_id, None, None, times)
    return _at(base, first.status, first.node_id, tuple(positions), _frozen(joins), times)


def _at(s: Snapshot, status: str, node_id: str | None, positions: tuple[Position, ...] | None,
        joins: Mapping[str, Any] | None, times: tuple[int, int | float] | None = None) -> Snapshot:
    started, total = times if times is not None else (s.last_started_at, s.total_execution_time)
    return Snapshot(s.workflow_id, status, node_id, s.context, s.version, started, total, s.metadata,
                    s.retry_state, s.data, positions, joins)


def _frozen(joins: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if not joins:
        return None
    return joins if isinstance(joins, MappingProxyType) else MappingProxyType(joins)
