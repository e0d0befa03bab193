"""Checking the history: every chain recomputed, and the first broken entry of each named exactly.

The chain (``bpm.store.chain``) makes an entry edited, deleted, inserted or
reordered directly in the database visible here: its hash no longer matches
what it records, the entry after it no longer points at it, a position is
missing, or the chain's head disagrees with its last entry. A chain
rewritten consistently by someone who can write to the database (every hash
recomputed, the head moved) passes these checks; the signed anchors
(``bpm.runtime.anchors``) are what catch that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bpm.runtime.actors import Actor
from bpm.runtime.anchors import anchor_problems, load_key
from bpm.runtime.policy import Action, require
from bpm.store.chain import GENESIS, entry_body, entry_hash
from bpm.store.models import HistoryEntry
from bpm.store.uow import UnitOfWork


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
    broken: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


def audit_public_key(signing_key: str) -> Ed25519PublicKey | None:
    """The anchors' public key, from the configured signing key (None when there is none)."""
    return load_key(signing_key).public_key() if signing_key else None


def recomputed(entry: HistoryEntry) -> str:
    """The hash an entry should carry, from what it records now."""
    return entry_hash(entry_body(entry.instance_id, entry.position or 0, entry.prev_hash or "", at=entry.at,
                                 actor=entry.actor, cause=entry.cause, node_id=entry.node_id, status=entry.status,
                                 revision=entry.revision, snapshot_version=entry.snapshot_version,
                                 task_id=entry.task_id, on_behalf_of=entry.on_behalf_of, delta=entry.delta,
                                 changes=entry.changes))


def check_chain(chain: str, entries: list[HistoryEntry], head: tuple[int, str] | None) -> Break | None:
    """The first break of one chain (its entries in chain order, and where its head says it ends), or None."""
    prev, expected = GENESIS, 1
    for entry in entries:
        if entry.position is None or entry.entry_hash is None:
            return Break(chain, None, entry.id, f"entry {entry.id} is not in the chain: written past the service")
        if entry.position > expected:
            gap = f"{expected}" if entry.position == expected + 1 else f"{expected} to {entry.position - 1}"
            return Break(chain, expected, None, f"position {gap} is missing: removed from the history")
        if entry.prev_hash != prev:
            return Break(chain, entry.position, entry.id, "it does not follow the entry before it (its previous "
                                                          "hash differs): entries moved, replaced or inserted")
        if recomputed(entry) != entry.entry_hash:
            return Break(chain, entry.position, entry.id, "what it records no longer matches its hash: edited")
        prev, expected = entry.entry_hash, expected + 1
    last = expected - 1
    if head is None:
        return Break(chain, last or None, None, "the chain has no head: its record of where it ends is gone")
    if head[0] != last:
        return Break(chain, last + 1 if head[0] > last else head[0], None,
                     f"the chain should end at position {head[0]} but its last entry is {last}: "
                     f"{'entries at its end were removed' if head[0] > last else 'entries were appended past it'}")
    if head[1] != prev:
        return Break(chain, last, None, "the chain's head does not hold its last entry's hash: rewritten")
    return None


def verify(uow: UnitOfWork, actor: Actor, instance_id: str | None = None,
           audit_key: Ed25519PublicKey | None = None) -> Verification:
    """Recompute one instance's chain, or every chain, and check them against the signed anchors.

    ``audit_key``: the anchors' public key (from ``BPM_AUDIT_SIGNING_KEY``); without it the anchors are still
    checked against their own roots and the chains, but not their signatures. Auditors and admins.
    """
    require(actor, Action.INSTANCE_READ_ALL)
    found = Verification()
    for chain in [instance_id] if instance_id else uow.history.chains():
        entries = uow.history.chain(chain)
        found.chains += 1
        found.entries += len(entries)
        broken = check_chain(chain, entries, uow.history.head(chain))
        if broken is not None:
            found.broken.append(broken)
    already = {b.chain for b in found.broken}
    for chain, position, problem in anchor_problems(uow, audit_key):
        if chain.startswith("anchor ") or (chain not in already and (instance_id is None or chain == instance_id)):
            found.broken.append(Break(chain, position, None, problem))
            already.add(chain)
    return found
