"""Edits of a process's draft, one at a time: what the designer's outline, properties panel and canvas do.

Every edit names the draft revision it was made on (``revision``; None when
it starts a new draft from the newest version) and is saved through
``definitions.save_draft`` with that revision, so a second tab or a second
designer never overwrites silently: the one who loses gets a 412 and sees
what changed. Drafts keep their problems (a step half set up) until publish.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from bpm.errors import InvalidRequest, NotFound, PreconditionFailed, shown
from bpm.nodes.about import about_of
from bpm.runtime.actors import Actor
from bpm.runtime.definitions import save_draft_in
from bpm.runtime.policy import Action, require
from bpm.runtime.runtime import Runtime
from bpm.store.models import ProcessDefinition

Body = dict[str, Any]
MAX_NODES = 2000
_SLUG = re.compile(r"[^a-z0-9]+")


def save_body(rt: Runtime, actor: Actor, key: str, revision: int | None, body: Any) -> ProcessDefinition:
    """The canvas's save: the whole draft as drawn, on top of ``revision``."""
    if not isinstance(body, dict) or body.get("id") != key:
        raise InvalidRequest("not this process's draft", {"id": [f"the draft of {shown(key)} keeps its key"]})
    return edit(rt, actor, key, revision, lambda _: body)


def edit(rt: Runtime, actor: Actor, key: str, revision: int | None,
         change: Callable[[Body], Body]) -> ProcessDefinition:
    """Apply ``change`` to the draft of ``key`` as it was at ``revision`` and save it (412 if it moved on)."""
    require(actor, Action.DEFINITION_WRITE)
    with rt.uow() as uow:
        draft = uow.definitions.draft_of(key, lock=True)
        if draft is None:
            if revision is not None:
                raise PreconditionFailed(f"the draft of {shown(key)} is gone (published or discarded); reload it")
            newest = uow.definitions.newest_version_number(key)
            if newest is None:
                raise NotFound(f"no process {shown(key)}")
            base = uow.definitions.version(key, newest).body
        elif revision != draft.revision:
            raise PreconditionFailed(f"the draft of {shown(key)} is at revision {draft.revision}, not {revision}: "
                                     "someone saved it since; reload it")
        else:
            base = draft.body
        body = change(copy.deepcopy(dict(base)))
        body.pop("version", None)
        saved = save_draft_in(rt, uow, actor, body, draft.revision if draft is not None else None, keep_problems=True)
        uow.commit()
        return saved


def add_node(body: Body, node_types: Mapping[str, Any], node_type: str, label: str,
             after: str | None = None, handle: str | None = None) -> tuple[Body, str]:
    """``body`` with a new node of ``node_type`` labelled ``label`` (and, with ``after``, the edge from that
    node's exit ``handle`` to it); the new node's id."""
    if node_type not in node_types or about_of(node_types[node_type]) is None:
        raise InvalidRequest("no such kind of step", {"type": [f"{node_type!r} is not a registered node type"]})
    label = label.strip()
    if not label or len(label) > 200:
        raise InvalidRequest("a step needs a name", {"label": ["1 to 200 characters"]})
    nodes = body.setdefault("nodes", [])
    if len(nodes) >= MAX_NODES:
        raise InvalidRequest("too many steps", {"type": [f"a process has at most {MAX_NODES} steps"]})
    node_id = _fresh_id(body, label)
    position = _position_after(body, after)
    nodes.append({"id": node_id, "type": node_type, "data": starter_data(node_types[node_type], label),
                  "metadata": {"label": label, "position": position}})
    if after is not None:
        _require_node(body, after)
        body = connect(body, after, handle, node_id)
    return body, node_id


def starter_data(node_type: Any, label: str) -> dict[str, Any]:
    """What a new node of a type starts with: its required fields, a text one taking the step's name."""
    schema = node_type.input_schema or {}
    data: dict[str, Any] = {}
    for key in schema.get("required") or ():
        spec = (schema.get("properties") or {}).get(key) or {}
        kind = spec.get("type")
        if kind == "string":
            data[key] = label
        elif kind == "array":
            data[key] = []
        elif kind == "object":
            data[key] = {}
    return data


def update_node(body: Body, node_id: str, label: str | None, data: Mapping[str, Any]) -> Body:
    """``body`` with the node's label and data replaced (the properties panel's save)."""
    node = _require_node(body, node_id)
    node["data"] = dict(data)
    if label is not None:
        label = label.strip()
        if not label or len(label) > 200:
            raise InvalidRequest("a step needs a name", {"label": ["1 to 200 characters"]})
        metadata = node.setdefault("metadata", {})
        if isinstance(metadata, dict):
            metadata["label"] = label
    return body


def remove_node(body: Body, node_id: str) -> Body:
    """``body`` without the node and the edges into and out of it."""
    _require_node(body, node_id)
    body["nodes"] = [n for n in body.get("nodes", []) if n.get("id") != node_id]
    body["edges"] = [e for e in body.get("edges", []) if node_id not in (e.get("source"), e.get("target"))]
    return body


def connect(body: Body, source: str, handle: str | None, target: str | None) -> Body:
    """``body`` with the exit ``handle`` of ``source`` leading to ``target`` (None: to nowhere)."""
    _require_node(body, source)
    if target is not None:
        _require_node(body, target)
    edges = [e for e in body.get("edges", [])
             if not (e.get("source") == source and (e.get("sourceHandle") or None) == (handle or None))]
    if target is not None:
        edge_id = _fresh_edge_id(edges, source, handle, target)
        edges.append({"id": edge_id, "source": source, "target": target, "sourceHandle": handle or None})
    body["edges"] = edges
    return body


def step_named(body: Body, name: str) -> str:
    """The id of the step ``name`` names: its id, or its label on the diagram (when only one step has it)."""
    nodes = [n for n in body.get("nodes", []) if isinstance(n, dict)]
    if any(n.get("id") == name for n in nodes):
        return name
    labelled = [n["id"] for n in nodes if (n.get("metadata") or {}).get("label") == name]
    if len(labelled) == 1:
        return str(labelled[0])
    raise InvalidRequest("no such step", {"target": [f"no step {name!r}: give a step's id, or a name only one has"]})


def _require_node(body: Body, node_id: str) -> dict[str, Any]:
    for node in body.get("nodes", []):
        if isinstance(node, dict) and node.get("id") == node_id:
            return node
    raise InvalidRequest("no such step", {"node": [f"the draft has no step {node_id!r} (reload it)"]})


def _fresh_id(body: Body, label: str) -> str:
    taken = {n.get("id") for n in body.get("nodes", []) if isinstance(n, dict)}
    stem = _SLUG.sub("_", label.lower()).strip("_")[:40] or "step"
    if stem[0].isdigit():
        stem = f"step_{stem}"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}_{n}", n + 1
    return candidate


def _fresh_edge_id(edges: list[dict[str, Any]], source: str, handle: str | None, target: str) -> str:
    taken = {e.get("id") for e in edges}
    stem = f"{source}-{handle}-{target}" if handle else f"{source}-{target}"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


def _position_after(body: Body, after: str | None) -> dict[str, int]:
    """Right of ``after`` (below its other successors), or right of everything."""
    positions = {n.get("id"): ((n.get("metadata") or {}).get("position") or {}) for n in body.get("nodes", [])
                 if isinstance(n, dict)}
    if after is not None and after in positions:
        base = positions[after]
        siblings = sum(1 for e in body.get("edges", []) if e.get("source") == after)
        return {"x": int(base.get("x", 0)) + 260, "y": int(base.get("y", 0)) + 140 * siblings}
    xs = [int(p.get("x", 0)) for p in positions.values() if isinstance(p.get("x"), (int, float))]
    return {"x": (max(xs) + 260) if xs else 0, "y": 0}
