"""An instance's story for an auditor: every event in words, how long each step waited and was worked on,
the snapshot at any version, and what changed between two of them, field by field.

Everything here is read from the history (the chain) and the instance's tasks; nothing is written. The
pages render it; the rules (who may read it) are the policy's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bpm.errors import InvalidRequest, NotFound, shown
from bpm.runtime.actors import Actor
from bpm.runtime.audit import Break, check_chain
from bpm.runtime.history import rebuild_snapshot
from bpm.runtime.paging import digits
from bpm.runtime.policy import Action, require
from bpm.store.models import (
    AuditEvent,
    HistoryEntry,
    LegalHold,
    ProcessDefinition,
    ProcessInstance,
    ProcessInstanceRecord,
)
from bpm.store.uow import UnitOfWork

SAID = {
    "started": "started the request", "task_completed": "decided", "cancelled": "cancelled it",
    "task_created": "sent it on: a task was opened",
    "retried": "retried the failed step", "repaired": "repaired it",
    "migrated": "moved it to another version", "call_returned": "the sub-process ended and it went on",
    "task_claimed": "claimed the task",
    "task_unclaimed": "gave the task back", "task_delegated": "delegated the task",
    "task_commented": "commented", "task_reassigned": "reassigned the task", "vote_cast": "voted",
    "timer_fired": "the timer fired", "continued": "it went on", "task_reminded": "sent a reminder",
    "task_escalated": "escalated the task", "task_timed_out": "the task timed out",
    "attachment_added": "added a file", "attachment_removed": "removed a file",
    "purged": "retention removed its data",
    "branch_cancelled": "closed the task: the branches were joined without it",
    "items_decided": "closed the task: the other items decided",
    "legal_hold_set": "put it under legal hold", "legal_hold_lifted": "lifted the legal hold",
    "export_made": "exported its history", "purge": "purged it",
}


@dataclass(frozen=True)
class Event:
    """One line of the timeline."""

    at: dt.datetime
    actor: str
    on_behalf_of: str | None
    cause: str
    node_id: str | None
    task_id: str | None
    changes: Mapping[str, Any]  # field -> [old, new]
    details: Mapping[str, Any]  # what else it records (a decision's outcome and data, a purge's rule, ...)
    position: int | None  # in the instance's chain (None: an admin chain event about it)
    snapshot_version: int | None
    entry_hash: str | None

    @property
    def said(self) -> str:
        return SAID.get(self.cause, self.cause.replace("_", " "))


@dataclass(frozen=True)
class Step:
    """A human task: when it was there to do, when someone took it, when it was done."""

    task_id: str
    node_id: str
    title: str
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    done_at: dt.datetime | None
    done_by: str | None
    outcome: str | None
    status: str

    @property
    def waited(self) -> dt.timedelta | None:
        """Until someone took it (claimed), or until it was done if nobody had to claim it."""
        end = self.claimed_at or self.done_at
        return end - self.created_at if end is not None else None

    @property
    def worked(self) -> dt.timedelta | None:
        """From being claimed to being done."""
        return self.done_at - self.claimed_at if self.done_at is not None and self.claimed_at is not None else None


@dataclass
class Timeline:
    instance: ProcessInstance
    definition: Mapping[str, Any]
    events: list[Event] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    entries: list[HistoryEntry] = field(default_factory=list)  # the chain, in order
    hold: LegalHold | None = None
    chain_break: Break | None = None
    children: list[ProcessInstanceRecord] = field(default_factory=list)  # the sub-processes its calls started

    @property
    def chain_entries(self) -> int:
        return len(self.entries)

    @property
    def versions(self) -> list[int]:
        """The snapshot versions the history can rebuild."""
        return sorted({e.snapshot_version for e in self.entries if e.snapshot_version is not None})


def timeline(uow: UnitOfWork, actor: Actor, instance_id: str) -> Timeline:
    """Everything an auditor sees of one instance. Auditors and admins."""
    require(actor, Action.INSTANCE_READ_ALL)
    instance = uow.objects.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no instance {shown(instance_id)}")
    definition = uow.objects.get(ProcessDefinition, instance.definition_id)
    entries = uow.history.chain(instance_id, instance.started_at)
    about = uow.audit_events.about(f"instance:{instance_id}")
    found = Timeline(instance, definition.body if definition is not None else {"nodes": [], "edges": []})
    found.events = sorted([_event(e) for e in entries] + [_admin_event(e) for e in about],
                          key=lambda e: (e.at, e.position if e.position is not None else 1 << 40))
    found.steps = _steps(uow, instance_id, entries)
    found.entries = entries
    found.hold = uow.objects.get(LegalHold, instance_id)
    found.chain_break = check_chain(instance_id, entries, uow.history.head(instance_id))
    found.children = uow.instances.children(instance_id)
    return found


def _event(entry: HistoryEntry) -> Event:
    details: dict[str, Any] = {}
    appended = (entry.delta or {}).get("appended") or {}
    for node_id, runs in appended.items():
        for run in runs:
            output = run.get("output") if isinstance(run, dict) else None
            if isinstance(output, dict):
                details.update({k: v for k, v in output.items() if k in ("outcome", "handle", "data")})
                if node_id == entry.node_id or entry.cause == "started":
                    details.setdefault("output", output)
    if entry.cause == "purged" and entry.changes:
        purged = entry.changes.get("purged", {})
        details = {"rule": purged.get("rule"), "entries": purged.get("entries"), "removed": purged.get("removed")}
        changes: Mapping[str, Any] = {}
    else:
        changes = entry.changes or {}
    return Event(entry.at, entry.actor, entry.on_behalf_of, entry.cause, entry.node_id, entry.task_id, changes,
                 details, entry.position, entry.snapshot_version, entry.entry_hash)


def _admin_event(event: AuditEvent) -> Event:
    return Event(event.at, event.actor, None, event.cause, None, None, {}, dict(event.details), None, None,
                 event.entry_hash)


def _steps(uow: UnitOfWork, instance_id: str, entries: Iterable[HistoryEntry]) -> list[Step]:
    claimed: dict[str, dt.datetime] = {}
    for entry in entries:
        if entry.cause == "task_claimed" and entry.task_id and entry.task_id not in claimed:
            claimed[entry.task_id] = entry.at
    tasks = uow.tasks.all_of_instance(instance_id)
    return [Step(t.id, t.node_id, t.title, t.created_at, claimed.get(t.id), t.completed_at, t.completed_by,
                 t.outcome, t.status) for t in tasks]


def snapshot_at(story: Timeline, version: int) -> dict[str, Any]:
    """The instance's snapshot as it was at ``version``, rebuilt from the deltas of the history already read."""
    deltas = []
    for entry in story.entries:
        deltas.append(entry.delta or {})
        if entry.snapshot_version == version:
            return rebuild_snapshot(deltas).to_dict()
    raise InvalidRequest("no such version", {"version": [f"the history holds no snapshot version {version}"]})


@dataclass(frozen=True)
class Comparison:
    """Two versions chosen to compare, and what differs between them (None until both are chosen)."""

    left: int | None = None
    right: int | None = None
    changes: list[Change] | None = None


def compare(story: Timeline, raw_from: str | None, raw_to: str | None) -> Comparison:
    """The versions asked for (``from``, ``to``, as typed), checked against the story's; InvalidRequest by field."""
    chosen: dict[str, int | None] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if not raw:
            chosen[name] = None
        elif digits(raw) and int(raw) in story.versions:
            chosen[name] = int(raw)
        else:
            errors[name] = [f"one of the versions {', '.join(map(str, story.versions))}" if story.versions
                            else "this instance's history holds no snapshot version"]
    if errors:
        raise InvalidRequest("no such version", errors)
    left, right = chosen["from"], chosen["to"]
    if left is None or right is None:
        return Comparison(left, right)
    return Comparison(left, right, diff(snapshot_at(story, left), snapshot_at(story, right)))


@dataclass(frozen=True)
class Change:
    """One field that differs between two snapshots: where, before, after (None: absent)."""

    path: str
    before: Any
    after: Any


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """What changed from one snapshot to another: status and position, then every value the nodes produced."""
    flat_before, flat_after = _flatten(before), _flatten(after)
    return [Change(path, flat_before.get(path), flat_after.get(path))
            for path in sorted(set(flat_before) | set(flat_after), key=_order)
            if flat_before.get(path, _ABSENT) != flat_after.get(path, _ABSENT)]


_ABSENT = object()


def _order(path: str) -> tuple[int, str]:
    return (0 if not path.startswith("context.") else 1, path)


def _flatten(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"status": snapshot.get("status"), "currentNodeId": snapshot.get("currentNodeId")}
    positions = snapshot.get("positions")
    if isinstance(positions, list):  # parallel branches: where each is
        out["positions"] = ", ".join(f"{p.get('nodeId')} ({p.get('status')})" for p in positions if isinstance(p, dict))
    if isinstance(snapshot.get("data"), Mapping):  # the request's data as steps wrote it
        _walk(out, "data", snapshot["data"])
    for node_id, runs in (snapshot.get("context") or {}).items():
        for index, run in enumerate(runs or []):
            prefix = f"context.{node_id}" + (f"[{index}]" if len(runs) > 1 else "")
            output = run.get("output") if isinstance(run, dict) else None
            _walk(out, f"{prefix}.output", output)
            if isinstance(run, dict) and run.get("error") is not None:
                out[f"{prefix}.error"] = run["error"]
    return out


def _walk(out: dict[str, Any], prefix: str, value: Any) -> None:
    if isinstance(value, Mapping) and value:
        for key, inner in value.items():
            _walk(out, f"{prefix}.{key}", inner)
    else:
        out[prefix] = value


def duration(span: dt.timedelta | None) -> str:
    """A span in the words a person reads ("2 d 3 h", "14 min", "under a minute")."""
    if span is None:
        return "—"
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "under a minute"
