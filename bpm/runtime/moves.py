"""Moving running instances to another version of their process (Camunda's "process instance migration").

A designer fixes a process in version 2; the requests already running on
version 1 should not stay broken. An admin plans a move (``dry_run``): which
instances move, and which cannot because they wait at a node the new version
does not have (and the mapping names no replacement). Then each instance
moves in its own transaction, recorded in its history (from, to, by whom):
its snapshot's node ids are mapped, and at every node it waits at, an
unchanged node keeps its open tasks, timers and escalations (they follow a
renamed node), while a changed one has them cancelled and runs again as the
new version says (a new task with the new title, assignee and form).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bpm.engine import Snapshot, WorkflowEngine
from bpm.engine.context import Context
from bpm.engine.positions import ACTIVE, Position
from bpm.engine.snapshot import RetryState
from bpm.errors import InvalidRequest, NotFound, shown
from bpm.nodes import StepGlobals
from bpm.runtime import definitions
from bpm.runtime.actors import Actor
from bpm.runtime.advance import EngineRun, cancel_task, run_engine, save_advance
from bpm.runtime.history import Deed
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.runtime.transitions import INSTANCE
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import Cause

MAX_INSTANCES = 10_000
"""How many instances one request may move (each is a transaction of its own)."""


@dataclass(frozen=True)
class Moved:
    """One instance that moves (or moved): where it waits now, and where it will wait."""

    instance_id: str
    nodes: list[str]
    to: list[str]
    recreated: list[str] = field(default_factory=list)  # nodes that changed: their work is made again


@dataclass(frozen=True)
class Refused:
    """One instance that cannot move, and why."""

    instance_id: str
    nodes: list[str]
    reason: str


@dataclass(frozen=True)
class MovePlan:
    """What a move does (a dry run) or did."""

    key: str
    from_version: int
    to_version: int
    dry_run: bool
    moved: list[Moved]
    refused: list[Refused]


@dataclass(frozen=True)
class _Versions:
    source: WorkflowEngine
    target: WorkflowEngine
    target_id: int
    mapping: Mapping[str, str]

    def node_for(self, node_id: str) -> str | None:
        """The node of the target version that stands for ``node_id`` (mapped, else the same id), or None."""
        mapped = self.mapping.get(node_id, node_id)
        return mapped if mapped in self.target.workflow.nodes_by_id else None

    def changed(self, node_id: str) -> bool:
        """Whether the node's type or data differ in the target version (its work must be made again)."""
        old = self.source.workflow.nodes_by_id.get(node_id)
        new = self.target.workflow.nodes_by_id.get(self.mapping.get(node_id, node_id))
        return old is None or new is None or old.type != new.type or old.data != new.data


def parse_mapping(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Node mappings written ``old = new`` (the admin page's lines, the CLI's ``--map``); and the lines that are not."""
    mapping: dict[str, str] = {}
    bad = []
    for line in lines:
        old, sep, new = line.partition("=")
        if sep and old.strip() and new.strip():
            mapping[old.strip()] = new.strip()
        elif line.strip():
            bad.append(line.strip())
    return mapping, bad


def move_instances(rt: Runtime, actor: Actor, key: str, from_version: int, to_version: int,
                   mapping: Mapping[str, str] | None = None, instance_ids: list[str] | None = None,
                   dry_run: bool = True) -> MovePlan:
    """Plan (``dry_run``) or carry out the move of ``key``'s unfinished instances from one version to another."""
    require(actor, Action.INSTANCE_MIGRATE)
    if from_version == to_version:
        raise InvalidRequest("nothing to move", {"toVersion": ["must differ from fromVersion"]})
    with rt.uow() as uow:
        versions = _versions(rt, uow, key, from_version, to_version, dict(mapping or {}))
        ids = uow.instances.unfinished_ids_of_version(key, from_version, instance_ids)
    if instance_ids is not None:
        unknown = sorted(set(instance_ids) - set(ids))
        if unknown:
            raise InvalidRequest("not movable", {"instanceIds": [
                f"{shown(i)} is no unfinished instance of {shown(key)} version {from_version}" for i in unknown[:20]]})
    if len(ids) > MAX_INSTANCES:
        raise InvalidRequest("too many", {"instanceIds": [f"at most {MAX_INSTANCES:,} at a time; name some"]})
    moved: list[Moved] = []
    refused: list[Refused] = []
    for instance_id in ids:
        with rt.uow() as uow:
            outcome = _move_one(rt, uow, actor, instance_id, versions, from_version, to_version, dry_run)
            if not dry_run and isinstance(outcome, Moved):
                uow.commit()
        (moved if isinstance(outcome, Moved) else refused).append(outcome)
    return MovePlan(key, from_version, to_version, dry_run, moved, refused)


def _versions(rt: Runtime, uow: UnitOfWork, key: str, from_version: int, to_version: int,
              mapping: dict[str, str]) -> _Versions:
    try:
        source_def = definitions.get_version(uow, key, from_version)
    except NotFound:
        raise InvalidRequest("no such version", {"fromVersion": [f"{shown(key)} has no version {from_version}"]}
                             ) from None
    try:
        target_def = definitions.get_version(uow, key, to_version)
    except NotFound:
        raise InvalidRequest("no such version", {"toVersion": [f"{shown(key)} has no version {to_version}"]}
                             ) from None
    if target_def.status == definitions.DRAFT:
        raise InvalidRequest("not published", {"toVersion": [f"version {to_version} is a draft; publish it first"]})
    source, target = rt.engines.for_definition(source_def), rt.engines.for_definition(target_def)
    errors = [f"{shown(old)} is no node of version {from_version}" for old in mapping
              if old not in source.workflow.nodes_by_id]
    errors += [f"{shown(new)} is no node of version {to_version}" for new in mapping.values()
               if new not in target.workflow.nodes_by_id]
    if errors:
        raise InvalidRequest("bad node mapping", {"nodeMapping": errors})
    return _Versions(source, target, int(target_def.id or 0), MappingProxyType(mapping))


def _move_one(rt: Runtime, uow: UnitOfWork, actor: Actor, instance_id: str, versions: _Versions,
              from_version: int, to_version: int, dry_run: bool) -> Moved | Refused:
    instance = uow.instances.get(instance_id)
    if instance is None or instance.definition_version != from_version or not INSTANCE.allows(
            "migrate", instance.status):
        return Refused(instance_id, [], "it ended or moved meanwhile")
    before = Snapshot.from_dict(instance.snapshot, copy=False)
    at = list(before.at_nodes)
    missing = [node for node in at if versions.node_for(node) is None]
    if missing:
        return Refused(instance_id, at, f"it waits at {', '.join(map(repr, missing))}, which version {to_version} "
                                        "does not have; map it to a node of the new version")
    to = [versions.node_for(node) or node for node in at]
    recreated = [versions.node_for(node) or node for node in at if versions.changed(node)]
    if dry_run:
        return Moved(instance_id, at, to, recreated)
    renamed = _renamed(before, versions)
    for task in uow.tasks.open_of_instance(instance_id):
        if versions.changed(task.node_id):
            cancel_task(rt, uow, task, actor.username, Cause.MIGRATED)
        elif versions.node_for(task.node_id) != task.node_id:
            uow.tasks.update_open(task, {"node_id": versions.node_for(task.node_id)})
    for node in at:
        new = versions.node_for(node) or node
        if versions.changed(node):
            uow.jobs.cancel_pending_at(instance_id, node)
        elif new != node:
            uow.jobs.rename_node(instance_id, node, new)
    if recreated:
        run = run_engine(rt, versions.target, _rerun(renamed, set(recreated)), None)
    else:  # nothing to run again: the instance waits on, at its mapped nodes
        run = EngineRun(renamed, StepGlobals(), versions.target)
    changes: dict[str, Any] = {"definitionVersion": [from_version, to_version]}
    if to != at:
        changes["nodes"] = [at, to]
    save_advance(rt, uow, instance, before, run, Deed(actor.username, Cause.MIGRATED, to[0] if to else None, changes),
                 moved_to={"definition_id": versions.target_id, "definition_version": to_version})
    return Moved(instance_id, at, to, recreated)


def _renamed(snapshot: Snapshot, versions: _Versions) -> Snapshot:
    """The snapshot with every node id of the old version mapped to the new one (context, positions, joins)."""
    mapping = versions.mapping
    if not mapping:
        return snapshot
    rename = lambda node: mapping.get(node, node)  # noqa: E731
    logs = {rename(node): log for node, log in snapshot.context.items()}
    positions = tuple(p._replace(node_id=rename(p.node_id)) for p in snapshot.positions) \
        if snapshot.positions is not None else None
    joins = {rename(j): records for j, records in snapshot.joins.items()} if snapshot.joins else snapshot.joins
    retry = snapshot.retry_state
    return snapshot._replace(
        context=Context(logs), current_node_id=rename(snapshot.current_node_id) if snapshot.current_node_id else None,
        positions=positions, joins=joins,
        retry_state=RetryState(rename(retry.node_id), retry.attempts, retry.next_retry_at) if retry else None)


def _rerun(snapshot: Snapshot, changed: set[str]) -> Snapshot:
    """Positions at changed nodes run again (their node's new data makes their task anew); the rest wait on."""
    if snapshot.positions is None:
        return snapshot._replace(status="active", retry_state=None)
    positions = tuple(Position(p.id, p.node_id, ACTIVE, p.forks) if p.node_id in changed else p
                      for p in snapshot.positions)
    first = next(p for p in positions if p.status == ACTIVE)
    return snapshot._replace(status="active", positions=positions, current_node_id=first.node_id)
