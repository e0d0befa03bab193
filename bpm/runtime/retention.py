"""Retention: a finished instance's data goes when its process's time is up, unless it is under legal hold.

``historyTimeToLive`` (days, as Camunda names it) on a process definition, or ``BPM_HISTORY_TTL_DAYS`` for
processes that say nothing, is how long a completed, cancelled or failed instance keeps its data after it
ended. Then ``purge`` removes, in one transaction per instance: its history entries (the form data, the
snapshots' deltas, the field changes), the data of its tasks and their titles (expressions put data in
titles), comments, files, drafts, messages and notices, and the snapshot's context. What is left is what
the instance was: process, version, business key, status, outcome, who started it, dates, who acted.

In place of the entries it removed, the instance's chain gets a **tombstone**: what was removed, when, by
which rule, and the hashes of the entries removed, so the chain still verifies from its start and any
anchor that signed one of them still checks; the admin chain records the purge too, and verify insists on
it. On PostgreSQL the history table refuses every DELETE except one: a transaction that has set
``bpm.purging`` to that very instance (``RetentionRepository.remove_entered_data``).

Legal holds are set and lifted by auditors, with a reason; both go into the admin chain. A hold and a purge
lock the instance row first, so a hold set while a purge runs either comes before it (and the purge skips
the instance) or after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from bpm.errors import ConflictError, InvalidRequest, NotFound, shown
from bpm.runtime.actors import Actor
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.runtime.transitions import ENDED
from bpm.store.chain import HistoryEvent, stamp
from bpm.store.models import LegalHold, ProcessInstance
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause, Cause

REMOVED = ("history entries' data", "snapshot context", "task data and titles", "comments", "files", "drafts",
           "messages", "notices")
RETENTION_ACTOR = Actor("system:retention", frozenset({"admin"}))  # the worker's and the CLI's purges


@dataclass(frozen=True)
class Due:
    """A finished instance whose data retention may remove, and the rule that says so."""

    instance_id: str
    definition_key: str
    definition_version: int
    ended_at: dt.datetime
    days: int

    @property
    def rule(self) -> str:
        return f"historyTimeToLive {self.days} days ({self.definition_key} v{self.definition_version})"


def _time_to_live(rt: Runtime, uow: UnitOfWork) -> dict[tuple[str, int], int]:
    """Days each process version keeps finished instances' data (versions that keep them for good left out)."""
    found: dict[tuple[str, int], int] = {}
    for key, version, body in uow.definitions.bodies():
        days = body.get("historyTimeToLive") if isinstance(body, dict) else None
        if days is None and rt.settings.history_ttl_days:
            days = rt.settings.history_ttl_days
        if isinstance(days, int) and not isinstance(days, bool) and days >= 0:
            found[(key, version)] = days
    return found


def due(rt: Runtime, uow: UnitOfWork, limit: int | None = None) -> list[Due]:
    """The finished, unpurged, unheld instances whose time to live has run out, oldest end first."""
    now = rt.now()
    ttl = _time_to_live(rt, uow)
    if not ttl:
        return []
    found: list[Due] = []
    for days in sorted(set(ttl.values())):
        versions = [version for version, d in ttl.items() if d == days]
        rows = uow.retention.ended_before(versions, ENDED, now - dt.timedelta(days=days), limit)
        found.extend(Due(i, k, v, e, days) for i, k, v, e in rows)
    found.sort(key=lambda d: d.ended_at)
    return found[:limit] if limit is not None else found


def purge(rt: Runtime, actor: Actor, dry_run: bool = False, limit: int | None = None) -> list[Due]:
    """Remove the data of every instance that is due (or, ``dry_run``, only say which); what was purged."""
    require(actor, Action.RETENTION_PURGE)
    with rt.uow() as uow:
        candidates = due(rt, uow, limit)
    if dry_run:
        return candidates
    return [one for one in candidates if purge_instance(rt, actor, one)]


def purge_instance(rt: Runtime, actor: Actor, one: Due) -> bool:
    """Purge one instance in one transaction, after checking again under its lock (False: no longer due)."""
    require(actor, Action.RETENTION_PURGE)
    with rt.uow() as uow:
        instance = _locked(uow, one.instance_id)
        if (instance.purged_at is not None or instance.status not in ENDED
                or uow.objects.get(LegalHold, one.instance_id) is not None):
            return False
        now = rt.now()
        hashes = uow.retention.entry_hashes(one.instance_id, instance.started_at)
        uow.retention.remove_entered_data(one.instance_id, instance.started_at)
        snapshot = {k: v for k, v in (instance.snapshot or {}).items() if k != "context"} | {"context": {}}
        uow.retention.mark_purged(one.instance_id, snapshot, now)
        tombstone = {"purged": {"entries": len(hashes), "hashes": hashes, "rule": one.rule, "at": stamp(now),
                                "ended": stamp(one.ended_at), "removed": list(REMOVED)}}
        uow.history.append(HistoryEvent(one.instance_id, instance.revision, now, actor.username, Cause.PURGED, None,
                                        instance.status, changes=tombstone, instance_started_at=instance.started_at))
        uow.audit_events.append(now, actor.username, AdminCause.PURGE, f"instance:{one.instance_id}",
                                {"rule": one.rule, "entries": len(hashes), "ended": stamp(one.ended_at),
                                 "process": one.definition_key, "version": one.definition_version})
        uow.commit()
    return True


def _locked(uow: UnitOfWork, instance_id: str) -> ProcessInstance:
    instance = uow.retention.locked_instance(instance_id)
    if instance is None:
        raise NotFound(f"no instance {shown(instance_id)}")
    return instance


# --- legal holds -------------------------------------------------------------------------------------------------

def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 500 or any(ord(c) < 32 for c in reason):
        raise InvalidRequest("a legal hold needs a reason", {"reason": ["3 to 500 characters, one line"]})
    return reason


def set_hold(rt: Runtime, actor: Actor, instance_id: str, reason: str) -> LegalHold:
    """Keep an instance from retention until the hold is lifted. Auditors; the admin chain records it."""
    require(actor, Action.LEGAL_HOLD)
    reason = _reason(reason)
    with rt.uow() as uow:
        instance = _locked(uow, instance_id)
        if instance.purged_at is not None:
            raise ConflictError("this instance's data was purged already: there is nothing left to hold")
        if uow.objects.get(LegalHold, instance_id) is not None:
            raise ConflictError("this instance is under a legal hold already")
        hold = LegalHold(instance_id=instance_id, reason=reason, set_by=actor.username, set_at=rt.now())
        uow.objects.add(hold)
        uow.audit_events.append(hold.set_at, actor.username, AdminCause.LEGAL_HOLD_SET, f"instance:{instance_id}",
                                {"reason": reason})
        uow.commit()
        uow.objects.reload(hold)
        uow.objects.detach(hold)
        return hold


def lift_hold(rt: Runtime, actor: Actor, instance_id: str, reason: str) -> None:
    """Let retention have the instance again. Auditors, with a reason; the admin chain records it."""
    require(actor, Action.LEGAL_HOLD)
    reason = _reason(reason)
    with rt.uow() as uow:
        _locked(uow, instance_id)
        hold = uow.objects.get(LegalHold, instance_id)
        if hold is None:
            raise NotFound("this instance is not under a legal hold")
        uow.objects.remove(hold)
        uow.audit_events.append(rt.now(), actor.username, AdminCause.LEGAL_HOLD_LIFTED, f"instance:{instance_id}",
                                {"reason": reason, "setBy": hold.set_by, "setAt": stamp(hold.set_at)})
        uow.commit()


def holds(uow: UnitOfWork, actor: Actor) -> Iterator[LegalHold]:
    """Every legal hold, newest first."""
    require(actor, Action.INSTANCE_READ_ALL)
    yield from uow.retention.holds()

