"""History entries: snapshot revisions and task events of an instance, appended to its hash chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from itertools import groupby
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import bindparam, text, update
from sqlalchemy import select as select_rows
from sqlmodel import select

from bpm.store.chain import GENESIS, HistoryEvent, entry_body, entry_hash, split_body
from bpm.store.direct import DirectStatement
from bpm.store.models import AuditChainHead, HistoryEntry, ProcessInstance

HEAD = AuditChainHead.__table__  # type: ignore[attr-defined]
HISTORY = HistoryEntry.__table__  # type: ignore[attr-defined]
INSTANCE = ProcessInstance.__table__  # type: ignore[attr-defined]
# Chain order. The instance's start (the same for all its entries) is named so that the unique index
# (instance, start, position) gives the order: on PostgreSQL each month's part of it, merged.
CHAIN_ORDER = (HISTORY.c.instance_id, HISTORY.c.instance_started_at, HISTORY.c.position, HISTORY.c.id)
_READ_HEAD = DirectStatement(select_rows(HEAD.c.position, HEAD.c.entry_hash).where(HEAD.c.chain == bindparam("chain"))
                             .with_for_update())
_HEAD_MOVED = """
WITH old AS (SELECT position, entry_hash FROM audit_chain_head WHERE chain = :instance_id FOR UPDATE),
moved AS (
  UPDATE audit_chain_head AS h SET position = old.position + 1,
    entry_hash = encode(sha256(convert_to(:before || (old.position + 1)::text || :middle || old.entry_hash || :after,
                                          'UTF8')), 'hex')
  FROM old WHERE h.chain = :instance_id
  RETURNING h.position, h.entry_hash, old.entry_hash AS prev)"""
_APPENDED = """
INSERT INTO history_entry (instance_id, instance_started_at, revision, at, actor, cause, node_id, status,
                           snapshot_version, delta, task_id, on_behalf_of, changes, position, prev_hash, entry_hash)
SELECT :instance_id, :instance_started_at, :revision, :at, :actor, :cause, :node_id, :status, :snapshot_version,
       CAST(:delta AS jsonb), :task_id, :on_behalf_of, CAST(:changes AS jsonb), moved.position, moved.prev,
       moved.entry_hash FROM moved"""
# PostgreSQL: lock the head, finish the hash from it, move it and append, in one statement (chain.split_body); in
# a batch that commits, as a guarded write (bpm.store.direct): it fails unless the chain had a head to move.
_APPEND_CHAINED = DirectStatement(text(_HEAD_MOVED + _APPENDED), guarded=text(
    _HEAD_MOVED + ",\nappended AS (" + _APPENDED + " RETURNING 1)\n"
    "SELECT bpm_expect_one_row(count(*), :bpm_write) FROM appended"))
_MOVE_HEAD = DirectStatement(update(HEAD).where(HEAD.c.chain == bindparam("chain"),
                                                HEAD.c.position == bindparam("read"))
                             .values(position=bindparam("position"), entry_hash=bindparam("entry_hash")))

if TYPE_CHECKING:
    from bpm.store.uow import UnitOfWork


def queue_head(uow: UnitOfWork, chain: str, read: int, digest: str, conflict: str) -> None:
    """Queue the move of ``chain``'s head from position ``read`` to the entry after it, whose hash is ``digest``.

    Queued with the entry, so both travel in the unit's one batch. A head the
    unit has queued already and not sent is brought forward instead: a start
    that appends its first entry and a task's creation writes its new head
    once, as an INSERT that needs no row count checked, so its COMMIT rides
    with the batch (issue 25: one round trip less per start). Else the move
    is an optimistic lock on the position read (``conflict`` if it moved).
    """
    unsent = uow.unsent_heads.get(chain)
    if unsent is not None:
        unsent.update(position=read + 1, entry_hash=digest)
    elif read == 0:
        unsent = uow.insert_values(AuditChainHead, chain=chain, position=1, entry_hash=digest)
    else:
        unsent = {"chain": chain, "read": read, "position": read + 1, "entry_hash": digest}
        uow.write(_MOVE_HEAD, unsent, conflict=conflict)
    uow.unsent_heads[chain] = unsent
    uow.chain_heads[chain] = (read + 1, digest)


def kept_where(instance_id: str, started_at: dt.datetime | None) -> list[Any]:
    """Where one instance's entries are: by its id and its start — given, or read in the same statement (a
    scalar subquery PostgreSQL runs first, so it prunes the other months' partitions before reading any)."""
    start = started_at if started_at is not None else (
        select_rows(INSTANCE.c.started_at).where(INSTANCE.c.id == instance_id).scalar_subquery())
    return [HISTORY.c.instance_id == instance_id, HISTORY.c.instance_started_at == start]


def _of(instance_id: str, started_at: dt.datetime | None) -> Any:
    """The entries of one instance, read where they are kept."""
    return select(HistoryEntry).where(*kept_where(instance_id, started_at))


class HistoryRepository:
    """The ``history_entry`` table of one unit of work; append-only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def append(self, event: HistoryEvent, new_chain: bool = False) -> None:
        """Queue one entry at the end of its instance's chain (a task event names its task and changes).

        ``new_chain``: the instance is being created, so its chain starts here (nothing to read). Otherwise
        the chain's head is locked where it is read, so a second writer to the same instance waits and
        appends after this one: a chain never forks. On PostgreSQL that is one queued statement, which
        finishes the hash in the database from the head it locks (no round trip to fetch it first); on
        SQLite the unit holds the write lock already and the head is read here.
        """
        instance_id, delta, changes = event.instance_id, dict(event.delta), event.changes
        if event.instance_started_at is None:
            raise ValueError("a history entry is kept by when its instance started: instance_started_at is missing")
        body = entry_body(event, 0, "")
        row = {"instance_id": instance_id, "instance_started_at": event.instance_started_at,
               "revision": event.revision, "at": event.at, "actor": event.actor,
               "cause": str(event.cause), "node_id": event.node_id, "status": str(event.status),
               "snapshot_version": event.snapshot_version, "delta": delta, "task_id": event.task_id,
               "on_behalf_of": event.on_behalf_of, "changes": changes}
        if not new_chain and instance_id not in self._uow.chain_heads and self._uow.dialect.name == "postgresql":
            before, middle, after = split_body(body)
            self._uow.write(_APPEND_CHAINED, {**row, "delta": orjson.dumps(delta).decode(),
                                              "changes": orjson.dumps(changes).decode() if changes is not None
                                              else None, "before": before, "middle": middle, "after": after},
                            conflict="the history chain of this instance has no head")
            return
        position, prev = (0, GENESIS) if new_chain else self._head(instance_id)
        digest = entry_hash({**body, "position": position + 1, "prev": prev})
        self._uow.insert_values(HistoryEntry, **row, position=position + 1, prev_hash=prev, entry_hash=digest)
        queue_head(self._uow, instance_id, position, digest, "the history chain moved under us")

    def _head(self, chain: str) -> tuple[int, str]:
        known = self._uow.chain_heads.get(chain)
        if known is not None:
            return known
        row = _READ_HEAD.first(self._uow, {"chain": chain}, independent=True)  # queued writes stay batched
        return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)

    def of_instance(self, instance_id: str, started_at: dt.datetime | None = None) -> list[HistoryEntry]:
        """Every entry of an instance, oldest first (``started_at``: the instance's, where they are kept; else it
        is read with them)."""
        return list(self._uow.session.exec(_of(instance_id, started_at)
                                           .order_by(HistoryEntry.revision, HistoryEntry.id)).all())

    def tasks_with(self, instances: Mapping[str, dt.datetime], cause: str) -> set[str]:
        """The ids of the tasks of these instances (id -> when it started) that have an entry of ``cause`` (which
        were escalated)."""
        if not instances:
            return set()
        found = self._uow.execute(select_rows(HISTORY.c.task_id).where(
            HISTORY.c.instance_id.in_(sorted(instances)),
            HISTORY.c.instance_started_at.in_(sorted(set(instances.values()))),
            HISTORY.c.cause == cause, HISTORY.c.task_id.is_not(None))).all()
        return {str(task_id) for (task_id,) in found}

    def chain(self, instance_id: str, started_at: dt.datetime | None = None) -> list[HistoryEntry]:
        """An instance's entries in chain order (for verifying it; ``started_at`` as for ``of_instance``)."""
        return list(self._uow.session.exec(_of(instance_id, started_at).order_by(*CHAIN_ORDER)).all())

    def stream_by_instance(self, instance_id: str | None = None, since: dt.datetime | None = None,
                           ) -> Iterator[tuple[str, Iterator[Any]]]:
        """Each instance's entries in chain order, as plain rows streamed over one server-side cursor (a million
        entries never sit in memory, and no ORM object is built for any); ``since``: only chains with an entry
        at or after it."""
        query = select_rows(HISTORY)
        if instance_id is not None:
            query = query.where(*kept_where(instance_id, None))
        if since is not None:
            active = select_rows(HISTORY.c.instance_id).where(HISTORY.c.at >= since).distinct()
            query = query.where(HISTORY.c.instance_id.in_(active))
        rows = self._uow.execute(query.order_by(*CHAIN_ORDER).execution_options(yield_per=2000, stream_results=True))
        yield from groupby(rows, key=lambda entry: entry.instance_id)

    def head(self, chain: str) -> tuple[int, str] | None:
        """Where the chain's head says it ends: (position, hash)."""
        return self.heads(chain).get(chain)

    def heads(self, chain: str | None = None) -> dict[str, tuple[int, str]]:
        """Every chain's head (or one chain's): chain -> (position, hash)."""
        query = select_rows(HEAD.c.chain, HEAD.c.position, HEAD.c.entry_hash)
        if chain is not None:
            query = query.where(HEAD.c.chain == chain)
        return {str(c): (int(p), str(h)) for c, p, h in self._uow.execute(query).all()}
