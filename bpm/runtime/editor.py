"""What the process editor shows: the draft (or the newest version, until the first change makes a draft), the
exits of each step, the problems marked on the steps and connections they concern, and the palette — all read
from the registry and the checks, so the canvas, the outline and the API say the same."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bpm.engine import Problem
from bpm.engine.roles import role_of
from bpm.engine.validation import portability_problems
from bpm.nodes.about import about_of
from bpm.runtime import node_reference
from bpm.runtime.actors import Actor
from bpm.runtime.definition_checks import check
from bpm.runtime.definitions import list_versions
from bpm.runtime.designer import label_of, require_designer
from bpm.runtime.draft_edits import starter_data
from bpm.runtime.runtime import Runtime
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import DefinitionStatus

_AT = re.compile(r"^\$\.(nodes|edges)\[(\d+)\]")
_NODE_ID = re.compile(r"\bnode '([^']+)'")


@dataclass(frozen=True)
class EditorState:
    """The version being edited and what the editor needs to draw and mark it."""

    key: str
    name: str
    body: Mapping[str, Any]
    version: int
    status: str
    revision: int | None  # the draft's revision; None: no draft yet (the first change makes one)
    saved_by: str
    exits: Mapping[str, list[str | None] | None]
    problems: tuple[Mapping[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        """What the canvas reads (``#designer-data`` and ``draft.json``)."""
        return {"key": self.key, "revision": self.revision, "version": self.version, "status": self.status,
                "savedBy": self.saved_by, "definition": self.body, "exits": self.exits,
                "problems": list(self.problems)}


def state(rt: Runtime, uow: UnitOfWork, actor: Actor, key: str,
          problems: list[Problem] | None = None) -> EditorState:
    """The editor's view of process ``key`` (NotFound for others than designers, or no such process);
    ``problems``: the checks' findings when the caller has them already."""
    require_designer(actor)
    newest = list_versions(uow, actor, key)[0]
    is_draft = newest.status == DefinitionStatus.DRAFT
    return EditorState(key, newest.name, newest.body, newest.version, newest.status,
                       newest.revision if is_draft else None, newest.created_by,
                       exits_of(newest.body, rt.node_types), tuple(problems_of(rt, uow, newest.body, problems)))


def problems_of(rt: Runtime, uow: UnitOfWork, body: Mapping[str, Any],
                problems: list[Problem] | None = None) -> list[dict[str, Any]]:
    """The checks' findings on ``body`` as the editor shows them (``problems``: when the caller has them)."""
    found = problems if problems is not None else check(rt, body, uow)
    return marked(body, found, set(portability_problems(body, rt.node_types)))


def exits_of(body: Mapping[str, Any], node_types: Mapping[str, Any]) -> dict[str, list[str | None] | None]:
    """Each node's exits as its type's registry entry says (None: only a run can tell)."""
    found: dict[str, list[str | None] | None] = {}
    for node in body.get("nodes", ()) if isinstance(body, Mapping) else ():
        if not isinstance(node, Mapping) or not isinstance(node.get("id"), str):
            continue
        about = about_of(node_types.get(node.get("type")))
        exits = about.exits_of(node.get("data") or {}) if about is not None else None
        found[node["id"]] = list(exits) if exits is not None else None
    return found


def marked(body: Mapping[str, Any], problems: list[Problem], elsewhere: set[Problem] | frozenset[Problem] = frozenset()
           ) -> list[dict[str, Any]]:
    """Each problem with the node or edge its path points into, so the canvas can mark it there; those that
    matter only for running the process in Refluxo's own engine (``elsewhere``) are notes, not marked."""
    nodes = body.get("nodes", []) if isinstance(body, Mapping) else []
    edges = body.get("edges", []) if isinstance(body, Mapping) else []
    labels = {n["id"]: label_of(n) for n in nodes if isinstance(n, Mapping) and isinstance(n.get("id"), str)}
    found = []
    for problem in problems:
        severity = "note" if problem in elsewhere else problem.severity
        entry: dict[str, Any] = {"path": problem.path, "message": in_words(problem.message, labels),
                                 "severity": severity}
        at = _AT.match(problem.path)
        if at is not None:
            items, index = (nodes if at.group(1) == "nodes" else edges), int(at.group(2))
            item = items[index] if index < len(items) and isinstance(items[index], Mapping) else {}
            if isinstance(item.get("id"), str):
                entry["node" if at.group(1) == "nodes" else "edge"] = item["id"]
        found.append(entry)
    return found


def in_words(message: str, labels: Mapping[str, str]) -> str:
    """A check's message as a designer reads it: steps by the names on the diagram (“Manager approval”), not by
    their ids (``node 'manager_approval'``)."""
    return _NODE_ID.sub(lambda m: f"“{labels[m.group(1)]}”" if m.group(1) in labels else m.group(0), message)


def palette(node_types: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The registered node types as the palette offers them: in the reference's order, each with what a new
    step of it starts with."""
    return [{"name": entry.name, "label": entry.about.label, "group": entry.about.group,
             "summary": entry.about.summary, "role": str(role_of(node_types[entry.name]) or "") or None,
             "starter": starter_data(node_types[entry.name], entry.about.label)}
            for entry in node_reference.entries(node_types)]
