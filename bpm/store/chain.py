"""The history's hash chain: the canonical form of an entry, and its SHA-256.

Every history entry carries its position in its chain (one chain per
instance), the hash of the entry before it, and its own hash over the
canonical JSON of everything it records. Changing, removing, inserting or
reordering an entry directly in the database breaks the chain at that
entry, which ``bpm audit verify`` finds and names.

**The canonical form** (fixed for good: old entries must verify forever):
the JSON of the object below with keys sorted, no whitespace, UTF-8, strings
as they are (no escaping of non-ASCII); numbers that are whole as integers
(``1.0`` is ``1``: what PostgreSQL's JSONB gives back for ``1.0`` is not
always what was written, and both must hash alike), others in their shortest
round-trip form; times as UTC ISO 8601 with microseconds and ``Z``. The
first entry of a chain has ``prev`` = 64 zeros.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

GENESIS = "0" * 64
ADMIN_CHAIN = "admin"  # definitions and administrative actions (audit_event); the others are instance ids
MAX_SAFE_INTEGER = 2**53


def _plain(value: Any) -> Any:
    """Values in the canonical form's shape: whole floats as integers, times as text, containers walked.

    The exact types JSON gives (str, int, dict, list) are taken first, by identity: every entry's body goes
    through here on every write (issue 25); anything else takes the general way below, unchanged.
    """
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _plain(v) for k, v in value.items()}
    if kind is list:
        return [_plain(v) for v in value]
    return _plain_other(value)


def _plain_other(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < MAX_SAFE_INTEGER:
            return int(value)
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return stamp(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def stamp(moment: dt.datetime) -> str:
    """A time as the canonical form writes it."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of ``value``."""
    return orjson.dumps(_plain(value), option=orjson.OPT_SORT_KEYS)


class EntryFields(Protocol):
    """What an entry records: a ``HistoryEvent`` about to be appended, or a stored ``HistoryEntry`` checked again."""

    @property
    def instance_id(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def cause(self) -> str: ...
    @property
    def node_id(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def snapshot_version(self) -> int | None: ...
    @property
    def task_id(self) -> str | None: ...
    @property
    def on_behalf_of(self) -> str | None: ...
    @property
    def delta(self) -> Any: ...
    @property
    def changes(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One thing that happened to an instance, as its history entry records it (its place in the chain aside)."""

    instance_id: str
    revision: int
    at: dt.datetime
    actor: str
    cause: str
    node_id: str | None
    status: str
    snapshot_version: int | None = None
    delta: Mapping[str, Any] = field(default_factory=dict)
    task_id: str | None = None  # a task event names its task
    changes: Mapping[str, Any] | None = None  # field -> [old, new]
    on_behalf_of: str | None = None  # whom a delegate acted for
    instance_started_at: dt.datetime | None = None  # where the entry is kept (HistoryEntry), not what it records


def entry_body(entry: EntryFields, position: int, prev_hash: str) -> dict[str, Any]:
    """What an entry's hash covers: all it records, its place in its instance's chain, and the hash before it."""
    return {"chain": entry.instance_id, "position": position, "prev": prev_hash, "at": stamp(entry.at),
            "actor": entry.actor, "cause": str(entry.cause), "node": entry.node_id, "status": str(entry.status),
            "revision": entry.revision, "snapshotVersion": entry.snapshot_version, "task": entry.task_id,
            "onBehalfOf": entry.on_behalf_of, "delta": entry.delta if entry.delta is not None else {},
            "changes": entry.changes}


def event_body(position: int, prev_hash: str, *, at: dt.datetime, actor: str, cause: str, subject: str,
               details: Any) -> dict[str, Any]:
    """What an administrative event's hash covers (the ``ADMIN_CHAIN``)."""
    return {"chain": ADMIN_CHAIN, "position": position, "prev": prev_hash, "at": stamp(at), "actor": actor,
            "cause": cause, "subject": subject, "details": details}


def entry_hash(body: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of an entry body's canonical JSON."""
    return hashlib.sha256(canonical(body)).hexdigest()


def split_body(body: Mapping[str, Any]) -> tuple[str, str, str]:
    """The canonical JSON of ``body`` around its position and previous hash, as three pieces.

    ``pieces[0] + str(position) + pieces[1] + prev_hash + pieces[2]`` is exactly ``canonical(body)`` with
    that position and previous hash, so the database can finish an entry's hash where it reads the chain's
    head (one statement, no round trip to fetch it first).
    """
    before = {k: v for k, v in body.items() if k < "position"}
    after = {k: v for k, v in body.items() if k > "prev"}
    head = canonical(before).decode()[:-1]
    tail = canonical(after).decode()[1:]
    return (f'{head},"position":' if before else '{"position":'), ',"prev":"', (f'",{tail}' if after else '"}')
