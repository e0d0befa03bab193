"""Checking the history: every chain recomputed, and the first broken entry of each named exactly.

The chain (``bpm.store.chain``) makes an entry edited, deleted, inserted or
reordered directly in the database visible here: its hash no longer matches
what it records, the entry after it no longer points at it, a position is
missing, or the chain's head disagrees with its last entry. A chain
rewritten consistently by someone who can write to the database (every hash
recomputed, the head moved) passes these checks; the signed anchors
(``bpm.runtime.anchors``) are what catch that.

A purged instance's chain begins with its tombstone (``bpm.runtime.retention``):
the entries before it are gone, but the tombstone holds their hashes, so the
chain still links to them and to any anchor that signed one of them; and the
admin chain must hold the purge that wrote it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bpm.runtime.actors import Actor
from bpm.runtime.anchors import check_anchors, load_key
from bpm.runtime.policy import Action, require
from bpm.store.chain import ADMIN_CHAIN, GENESIS, entry_body, entry_hash, event_body
from bpm.store.models import AuditEvent
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import AdminCause, Cause


@dataclass(frozen=True)
class Break:
    """Where a chain is broken and how."""

    chain: str
    position: int | None
    entry_id: int | None
    problem: str


@dataclass
class Verification:
    """What ``verify`` found: how much it checked, and each broken chain's first break."""

    chains: int = 0
    entries: int = 0
    anchors: int = 0
    broken: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


class Link(Protocol):
    """An entry of either kind of chain, as checking it needs."""

    id: int | None
    position: int | None
    prev_hash: str | None
    entry_hash: str | None


def audit_public_key(signing_key: str) -> Ed25519PublicKey | None:
    """The anchors' public key, from the configured signing key (None when there is none)."""
    return load_key(signing_key).public_key() if signing_key else None


def recomputed(entry: Any) -> str:
    """The hash an entry (history or admin event) should carry, from what it records now."""
    if isinstance(entry, AuditEvent):
        return entry_hash(event_body(entry.position, entry.prev_hash, at=entry.at, actor=entry.actor,
                                     cause=entry.cause, subject=entry.subject, details=entry.details))
    return entry_hash(entry_body(entry, entry.position or 0, entry.prev_hash or ""))


def purged_hashes(entry: Any) -> list[str] | None:
    """The hashes of the entries a tombstone stands for (None if ``entry`` is not a tombstone)."""
    if getattr(entry, "cause", None) != Cause.PURGED or not isinstance(entry.changes, dict):
        return None
    hashes = (entry.changes.get("purged") or {}).get("hashes")
    return [str(h) for h in hashes] if isinstance(hashes, list) else None


def check_chain(chain: str, entries: Iterable[Any], head: tuple[int, str] | None,
                signed: tuple[str, int, str] | None = None) -> Break | None:
    """The first break of one chain (its entries in chain order, where its head says it ends, and the newest
    anchor's signed (name, position, hash) of it), or None."""
    prev, expected, known = GENESIS, 1, {}
    for index, entry in enumerate(entries):
        if entry.position is None or entry.entry_hash is None:
            return Break(chain, None, entry.id, f"entry {entry.id} is not in the chain: written past the service")
        removed = purged_hashes(entry) if index == 0 else None
        if removed is not None and entry.position == len(removed) + 1 and removed and entry.prev_hash == removed[-1]:
            known = dict(enumerate(removed, 1))  # the tombstone accounts for every entry before it
            prev, expected = removed[-1], entry.position
        if entry.position > expected:
            gap = f"{expected}" if entry.position == expected + 1 else f"{expected} to {entry.position - 1}"
            return Break(chain, expected, None, f"position {gap} is missing: removed from the history")
        if entry.prev_hash != prev:
            return Break(chain, entry.position, entry.id, "it does not follow the entry before it (its previous "
                                                          "hash differs): entries moved, replaced or inserted")
        if recomputed(entry) != entry.entry_hash:
            return Break(chain, entry.position, entry.id, "what it records no longer matches its hash: edited")
        if signed is not None and entry.position == signed[1] and entry.entry_hash != signed[2]:
            return Break(chain, entry.position, entry.id, f"{signed[0]} signed a different entry here: "
                                                          "the chain was rewritten")
        known[entry.position] = entry.entry_hash
        prev, expected = entry.entry_hash, expected + 1
    return _end_break(chain, expected - 1, prev, head, signed, known)


def _end_break(chain: str, last: int, prev: str, head: tuple[int, str] | None,
               signed: tuple[str, int, str] | None, known: dict[int, str]) -> Break | None:
    """Where a chain whose entries link up is broken at its end: its head, or its newest anchor, disagree."""
    if signed is not None and signed[1] <= last and known.get(signed[1]) != signed[2]:
        return Break(chain, signed[1], None, f"{signed[0]} signed a different entry here: the chain was rewritten")
    if head is None:
        return Break(chain, last or None, None, "the chain has no head: its record of where it ends is gone")
    if head[0] != last:
        return Break(chain, last + 1 if head[0] > last else head[0], None,
                     f"the chain should end at position {head[0]} but its last entry is {last}: "
                     f"{'entries at its end were removed' if head[0] > last else 'entries were appended past it'}")
    if head[1] != prev:
        return Break(chain, last, None, "the chain's head does not hold its last entry's hash: rewritten")
    if signed is not None and signed[1] > last:
        return Break(chain, last + 1, None, f"{signed[0]} signed position {signed[1]}, past the chain's end: "
                                            "entries at its end were removed")
    return None




def verify(uow: UnitOfWork, actor: Actor, instance_id: str | None = None,
           audit_key: Ed25519PublicKey | None = None, since: dt.datetime | None = None,
           anchor_file: str = "") -> Verification:
    """Recompute one instance's chain, or every chain (those with entries ``since``), and the admin chain,
    and check them against the signed anchors.

    ``audit_key``: the anchors' public key (from ``BPM_AUDIT_SIGNING_KEY``); without it the anchors are still
    checked against their own roots and the chains, but not their signatures. Auditors and admins.
    """
    require(actor, Action.INSTANCE_READ_ALL)
    anchors = check_anchors(uow, audit_key, anchor_file, chain=instance_id)
    found = Verification(anchors=anchors.count)
    found.broken.extend(Break(name, position, None, problem) for name, position, problem in anchors.problems)
    heads = uow.history.heads(instance_id)
    seen: set[str] = set()
    tombstones: dict[str, int] = {}
    for chain, entries in uow.history.stream_by_instance(instance_id, since):
        listed = list(entries)
        seen.add(chain)
        count_chain(found, chain, listed, heads.get(chain), anchors.signed)
        if listed and purged_hashes(listed[0]) is not None:
            tombstones[chain] = int(listed[0].id or 0)
    for chain in sorted(set(heads) - seen - {ADMIN_CHAIN}):
        if since is None:  # a head whose entries are all gone
            count_chain(found, chain, [], heads[chain], anchors.signed)
    if instance_id is None:
        events = uow.audit_events.chain()
        if events or ADMIN_CHAIN in heads:  # else no administrative event yet
            count_chain(found, ADMIN_CHAIN, events, heads.get(ADMIN_CHAIN), anchors.signed)
    else:
        events = uow.audit_events.about(f"instance:{instance_id}")
    report_unpurged_tombstones(found, tombstones, events)
    return found


def count_chain(found: Verification, chain: str, entries: list[Any], head: tuple[int, str] | None,
                signed: Mapping[str, tuple[str, int, str]]) -> None:
    """Check one chain into ``found``: counted, and its first break (if any) noted."""
    found.chains += 1
    found.entries += len(entries)
    broken = check_chain(chain, entries, head, signed.get(chain))
    if broken is not None:
        found.broken.append(broken)


def report_unpurged_tombstones(found: Verification, tombstones: Mapping[str, int | None],
                               admin_events: Iterable[Any]) -> None:
    """A chain that begins with a tombstone the admin chain has no purge for: entries removed past the service
    (``tombstones``: chain -> the tombstone's entry id; chains broken already are not named twice)."""
    purged = {e.subject.removeprefix("instance:") for e in admin_events if e.cause == AdminCause.PURGE}
    broken = {b.chain for b in found.broken}
    for chain, entry_id in sorted(tombstones.items()):
        if chain not in purged and chain not in broken:
            found.broken.append(Break(chain, None, entry_id, "its tombstone has no purge in the admin chain: "
                                                             "entries removed past the service"))
