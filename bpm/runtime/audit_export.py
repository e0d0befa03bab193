"""Exports of the history, CSV and JSON, streamed; and checking a JSON export offline.

An export is either one instance or everything a search matches (``audit_search``). It is recorded in the
admin chain before the first byte goes out (who, when, what was asked, how many instances), so whoever got
the data is on record even if they broke the download off. Rows come from one query over a server-side
cursor (PostgreSQL; SQLite steps through its own), a thousand at a time: a million rows never sit in memory.

The JSON export carries what verifying needs without the database: every exported chain's entries with
their hashes and the chain's head, the whole admin chain (it holds the purges tombstones must match), and
the newest anchor signing each exported chain, with its leaves and signature. ``bpm audit verify --file``
recomputes all of it (``verify_export``); with ``--public-key`` it checks the signatures too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from bpm.errors import InvalidRequest, NotFound, shown
from bpm.runtime.actors import Actor
from bpm.runtime.anchors import anchor_line, anchor_name, anchor_problem
from bpm.runtime.audit import Break, Verification, count_chain, purged_hashes, report_unpurged_tombstones
from bpm.runtime.audit_search import AuditQuery, with_start_nodes
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.chain import ADMIN_CHAIN, stamp
from bpm.store.models import AuditAnchor, AuditEvent, HistoryEntry
from bpm.store.vocabulary import AdminCause

FORMAT = "refluxo-bpm-audit-export"
FORMATS = ("csv", "json")
CSV_COLUMNS = ("instance", "process", "version", "businessKey", "instanceStatus", "position", "at", "actor",
               "onBehalfOf", "cause", "node", "task", "status", "revision", "snapshotVersion", "changes", "delta",
               "prevHash", "entryHash")
BATCH = 1000



def begin(rt: Runtime, actor: Actor, export_format: str, query: AuditQuery | None, instance_id: str | None,
          ) -> int:
    """Check the request and record the export in the admin chain; how many instances it holds."""
    require(actor, Action.INSTANCE_READ_ALL)
    if export_format not in FORMATS:
        raise InvalidRequest("unknown export format", {"format": [f"one of {', '.join(FORMATS)}"]})
    with rt.uow() as uow:
        if instance_id is not None and uow.instances.get(instance_id) is None:
            raise NotFound(f"no instance {shown(instance_id)}")
        count = uow.audit_search.count(_resolved(rt, uow, query), instance_id)
        subject = f"instance:{instance_id}" if instance_id else "search"
        uow.audit_events.append(rt.now(), actor.username, AdminCause.EXPORT_MADE, subject,
                                {"format": export_format, "query": query.query_string() if query else "",
                                 "instances": count})
        uow.commit()
    return count


def _resolved(rt: Runtime, uow: Any, query: AuditQuery | None) -> AuditQuery | None:
    return with_start_nodes(rt, uow, query) if query is not None else None


def _entry(row: Any) -> dict[str, Any]:
    return {"id": row.id, "position": row.position, "prev": row.prev_hash, "hash": row.entry_hash,
            "at": stamp(row.at), "actor": row.actor, "onBehalfOf": row.on_behalf_of, "cause": row.cause,
            "node": row.node_id, "task": row.task_id, "status": row.status, "revision": row.revision,
            "snapshotVersion": row.snapshot_version, "delta": row.delta, "changes": row.changes}


def csv_lines(rt: Runtime, actor: Actor, query: AuditQuery | None, instance_id: str | None) -> Iterator[bytes]:
    """The export as CSV (one row per history entry), a batch of lines at a time."""
    require(actor, Action.INSTANCE_READ_ALL)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    with rt.read_streaming(actor) as uow:
        for n, row in enumerate(uow.audit_search.export_rows(_resolved(rt, uow, query), instance_id), 1):
            writer.writerow([row.instance_id, row.definition_key, row.definition_version, row.business_key or "",
                             row.instance_status, row.position, stamp(row.at), row.actor, row.on_behalf_of or "",
                             row.cause, row.node_id or "", row.task_id or "", row.status, row.revision,
                             "" if row.snapshot_version is None else row.snapshot_version,
                             "" if row.changes is None else _json(row.changes), _json(row.delta),
                             row.prev_hash, row.entry_hash])
            if n % BATCH == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode()


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def json_chunks(rt: Runtime, actor: Actor, query: AuditQuery | None, instance_id: str | None) -> Iterator[bytes]:
    """The export as one JSON document, written as it is read: chains, then the admin chain and anchors."""
    require(actor, Action.INSTANCE_READ_ALL)
    header = {"format": FORMAT, "version": 1, "exportedAt": stamp(rt.now()), "exportedBy": actor.username,
              "query": query.query_string() if query else "", "instance": instance_id}
    yield orjson.dumps(header)[:-1] + b',"chains":['
    exported: set[str] = set()
    with rt.read_streaming(actor) as uow:
        out: list[bytes] = []
        chain: str | None = None
        for row in uow.audit_search.export_rows(_resolved(rt, uow, query), instance_id):
            if row.instance_id != chain:
                if chain is not None:
                    out.append(b"]},")
                chain = row.instance_id
                exported.add(chain)
                head = [row.head_position, row.head_hash] if row.head_position is not None else None
                about = {"chain": chain, "process": row.definition_key, "version": row.definition_version,
                         "businessKey": row.business_key, "status": row.instance_status, "head": head}
                out.append(orjson.dumps(about)[:-1] + b',"entries":[')
            elif out and not out[-1].endswith(b"["):
                out.append(b",")
            out.append(orjson.dumps(_entry(row)))
            if len(out) >= 2 * BATCH:
                yield b"".join(out)
                out = []
        if chain is not None:
            out.append(b"]}")
        yield b"".join(out) + b'],"admin":'
        events = uow.audit_events.chain()
        head = uow.history.head(ADMIN_CHAIN)
        yield orjson.dumps({"head": list(head) if head else None, "entries": [_event(e) for e in events]})
        yield b',"anchors":' + orjson.dumps(_anchors_for(uow, exported | {ADMIN_CHAIN})) + b"}"


def _event(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "position": event.position, "prev": event.prev_hash, "hash": event.entry_hash,
            "at": stamp(event.at), "actor": event.actor, "cause": event.cause, "subject": event.subject,
            "details": event.details}


def _anchors_for(uow: Any, chains: set[str]) -> list[dict[str, Any]]:
    """The newest anchor signing each of ``chains``, whole (its leaves make its root)."""
    newest: dict[str, int] = {}
    for anchor_id, heads in uow.anchors.heads_by_id():
        for chain, _, _ in heads:
            if chain in chains:
                newest[chain] = anchor_id
    wanted = sorted(set(newest.values()))
    anchors = uow.anchors.by_ids(wanted)
    return [{**anchor_line(a), "heads": a.heads} for a in anchors]


# --- offline -----------------------------------------------------------------------------------------------------

def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _history_entry(chain: str, raw: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(id=raw.get("id"), instance_id=chain, revision=raw["revision"], at=_when(raw["at"]),
                        actor=raw["actor"], cause=raw["cause"], node_id=raw.get("node"), status=raw["status"],
                        snapshot_version=raw.get("snapshotVersion"), delta=raw.get("delta"),
                        task_id=raw.get("task"), on_behalf_of=raw.get("onBehalfOf"), changes=raw.get("changes"),
                        position=raw.get("position"), prev_hash=raw.get("prev"), entry_hash=raw.get("hash"))


def _admin_event(raw: dict[str, Any]) -> AuditEvent:
    return AuditEvent(id=raw.get("id"), position=raw["position"], at=_when(raw["at"]), actor=raw["actor"],
                      cause=raw["cause"], subject=raw["subject"], details=raw["details"], prev_hash=raw["prev"],
                      entry_hash=raw["hash"])


def verify_export(file: IO[bytes], public_key_pem: bytes | None = None) -> Verification:
    """Check a JSON export without the database: every chain, the admin chain, the anchors it carries."""
    found = Verification()
    try:
        document = orjson.loads(file.read())
        if document.get("format") != FORMAT:
            raise ValueError("not an export")
        chains = list(document["chains"])
        admin = document["admin"]
        anchors = list(document["anchors"])
    except (orjson.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError):
        found.broken.append(Break("export", None, None, f"not a {FORMAT} JSON document"))
        return found
    public = load_pem_public_key(public_key_pem) if public_key_pem else None
    signed = _check_exported_anchors(anchors, public, found)
    events = [_admin_event(raw) for raw in admin.get("entries", [])]
    if events or admin.get("head"):
        count_chain(found, ADMIN_CHAIN, events, _head(admin.get("head")), signed)
    tombstones = {}
    for chain in chains:
        name = str(chain.get("chain"))
        entries = [_history_entry(name, raw) for raw in chain.get("entries", [])]
        count_chain(found, name, entries, _head(chain.get("head")), signed)
        if entries and purged_hashes(entries[0]) is not None:
            tombstones[name] = entries[0].id
    report_unpurged_tombstones(found, tombstones, events)
    return found


def _head(raw: Any) -> tuple[int, str] | None:
    return (int(raw[0]), str(raw[1])) if raw else None


def _check_exported_anchors(anchors: Iterable[dict[str, Any]], public: Any,
                            found: Verification) -> dict[str, tuple[str, int, str]]:
    """The anchors an export carries, each checked as the database's are; the newest signed head of each chain."""
    signed: dict[str, tuple[str, int, str]] = {}
    for raw in sorted(anchors, key=lambda a: a.get("id") or 0):
        anchor = AuditAnchor(id=raw.get("id"), at=_when(raw["at"]), previous=raw.get("previous"),
                             heads=raw["heads"], root=raw["root"], signature=raw["signature"], key_id=raw["keyId"])
        found.anchors += 1
        problem = anchor_problem(anchor, public)
        if problem is not None:
            found.broken.append(Break(anchor_name(anchor), None, None, problem))
            continue
        for chain, position, digest in anchor.heads:
            signed[chain] = (anchor_name(anchor), int(position), str(digest))
    return signed
