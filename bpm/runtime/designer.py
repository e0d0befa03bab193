"""What the designer's pages show: the catalogue of processes with their versions, and who may see it.

Designers (and admins) only; to everyone else the pages do not exist (a
404, as for any page they may not open), so the menu and the URLs say
nothing about processes being drafted.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpm.engine import NodeRole, Problem
from bpm.engine.roles import role_of
from bpm.engine.validation import portability_problems
from bpm.errors import InvalidRequest, NotFound
from bpm.nodes.about import about_of
from bpm.runtime.actors import Actor
from bpm.runtime.definition_checks import KEY_PATTERN, check
from bpm.runtime.definitions import get_version, save_draft
from bpm.runtime.policy import Action, allows
from bpm.runtime.runtime import Runtime
from bpm.runtime.version_diff import Stranded, VersionDiff, diff, stranded
from bpm.store.models import ProcessDefinition
from bpm.store.uow import UnitOfWork
from bpm.store.vocabulary import DefinitionStatus


def require_designer(actor: Actor) -> None:
    """Designer pages are for those who may change definitions; for others they are not there."""
    if not allows(actor, Action.DEFINITION_WRITE):
        raise NotFound("no such page")


@dataclass(frozen=True)
class VersionLine:
    """One version of a process as the catalogue lists it."""

    version: int
    status: str
    running: int  # instances on it that have not ended
    changed_by: str
    changed_at: dt.datetime


@dataclass(frozen=True)
class ProcessLine:
    """A process with every version, newest first."""

    key: str
    name: str
    versions: tuple[VersionLine, ...]

    @property
    def newest(self) -> VersionLine:
        return self.versions[0]

    @property
    def draft(self) -> VersionLine | None:
        return next((v for v in self.versions if v.status == DefinitionStatus.DRAFT), None)

    @property
    def published(self) -> VersionLine | None:
        return next((v for v in self.versions if v.status == DefinitionStatus.PUBLISHED), None)

    @property
    def running(self) -> int:
        return sum(v.running for v in self.versions)


def catalogue(uow: UnitOfWork, actor: Actor) -> list[ProcessLine]:
    """Every process with its versions, the running instances on each, and who changed it last."""
    require_designer(actor)
    running = uow.instances.unfinished_per_version()
    by_key: dict[str, list[Any]] = {}
    for row in uow.definitions.every_version():
        by_key.setdefault(row.key, []).append(row)
    lines = []
    for key, rows in by_key.items():
        versions = tuple(VersionLine(row.version, row.status, running.get((key, row.version), 0),
                                     *_last_change(row)) for row in rows)
        lines.append(ProcessLine(key, rows[0].name, versions))
    return sorted(lines, key=lambda line: line.name.lower())


def _last_change(row: Any) -> tuple[str, dt.datetime]:
    """Who last changed a version, and when: its publisher once published, else who saved it."""
    if row.published_at is not None and row.published_at >= row.updated_at:
        return row.published_by or row.created_by, row.published_at
    return row.created_by, row.updated_at


def blank(key: str, name: str) -> dict[str, Any]:
    """A new process: a start and an end, joined, where the designer begins drawing."""
    return {"id": key, "name": name, "nodes": [
        {"id": "start", "type": "start", "data": {},
         "metadata": {"label": "Request made", "position": {"x": 0, "y": 0}}},
        {"id": "end", "type": "end", "data": {"outcome": "done"},
         "metadata": {"label": "Done", "position": {"x": 260, "y": 0}}}],
        "edges": [{"id": "start-end", "source": "start", "target": "end"}]}


def examples(directory: Path) -> dict[str, dict[str, Any]]:
    """The example processes shipped with the service (``processes/``), by key, to start a new one from."""
    found = {}
    for path in sorted(directory.glob("*.json")):
        try:
            body = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            found[body["id"]] = body
    return found


def as_new(body: Mapping[str, Any], key: str, name: str) -> dict[str, Any]:
    """``body`` under another key and name (a duplicate, or a process from an example), without its version."""
    copied = copy.deepcopy(dict(body))
    copied.pop("version", None)
    return {**copied, "id": key, "name": name}


def create(rt: Runtime, actor: Actor, key: str, name: str, from_example: str | None = None,
           from_process: tuple[str, int] | None = None) -> ProcessDefinition:
    """A new process's first draft: blank, from an example, or a copy of a version of another process.

    The key must be new: a designer never overwrites another process by choosing its name.
    """
    require_designer(actor)
    errors = {}
    if not KEY_PATTERN.match(key or ""):
        errors["key"] = ["lowercase letters, digits, '-' and '_', starting with a letter or digit"]
    if not (name or "").strip():
        errors["name"] = ["a process needs a name"]
    if errors:
        raise InvalidRequest("the new process needs a key and a name", errors)
    with rt.uow() as uow:
        if uow.definitions.newest_version_number(key) is not None:
            raise InvalidRequest("that key is taken", {"key": [f"a process {key!r} exists already; choose another"]})
        if from_process is not None:
            body = as_new(get_version(uow, *from_process).body, key, name)
        elif from_example:
            found = examples(rt.settings.processes_dir).get(from_example)
            if found is None:
                raise InvalidRequest("no such example", {"example": [f"no example {from_example!r}"]})
            body = as_new(found, key, name)
        else:
            body = blank(key, name)
    return save_draft(rt, actor, body)


def import_file(rt: Runtime, actor: Actor, content: bytes) -> ProcessDefinition:
    """A definition file (Refluxo JSON) saved as a draft of its key: a new process, or the next version."""
    require_designer(actor)
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("not a definition file", {"file": [f"not JSON: {exc}"]}) from None
    if not isinstance(body, dict):
        raise InvalidRequest("not a definition file", {"file": ["a definition is a JSON object with nodes and edges"]})
    body.pop("version", None)
    return save_draft(rt, actor, body)


def export(uow: UnitOfWork, actor: Actor, key: str, version: int) -> tuple[str, bytes]:
    """A version as a file to download: its name, and the definition as JSON (what import takes back)."""
    require_designer(actor)
    definition = get_version(uow, key, version)
    return f"{key}-v{version}.json", json.dumps(definition.body, indent=2, ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True)
class OutlineExit:
    handle: str | None  # None: the default exit
    target: str | None  # the node it leads to (None: no edge yet)
    target_label: str | None


@dataclass(frozen=True)
class OutlineStep:
    """A node as the outline lists it: in the order a request meets it, with where each exit leads."""

    id: str
    label: str
    type: str
    type_label: str
    exits: tuple[OutlineExit, ...]


def outline(body: Mapping[str, Any], node_types: Mapping[str, Any]) -> list[OutlineStep]:
    """The process as a list a keyboard and a screen reader can follow: nodes from the start, breadth first,
    then any nobody reaches; each with its exits (from its type's registry entry) and their targets."""
    nodes = [n for n in body.get("nodes", ()) if isinstance(n, Mapping) and isinstance(n.get("id"), str)]
    edges = [e for e in body.get("edges", ()) if isinstance(e, Mapping)]
    by_id = {n["id"]: n for n in nodes}
    leaving: dict[str, list[Mapping[str, Any]]] = {}
    for edge in edges:
        leaving.setdefault(str(edge.get("source")), []).append(edge)
    order: list[str] = []
    queue = [n["id"] for n in nodes if role_of(node_types.get(n.get("type"))) == NodeRole.START]
    while queue:
        node_id = queue.pop(0)
        if node_id in order or node_id not in by_id:
            continue
        order.append(node_id)
        queue.extend(str(e.get("target")) for e in leaving.get(node_id, ()))
    order += [n["id"] for n in nodes if n["id"] not in order]
    steps = []
    for node_id in order:
        node = by_id[node_id]
        about = about_of(node_types.get(node.get("type")))
        exits = about.exits_of(node.get("data") or {}) if about is not None else None
        drawn = {e.get("sourceHandle"): str(e.get("target")) for e in reversed(leaving.get(node_id, []))}
        handles = list(exits) if exits is not None else list(drawn)
        handles += [h for h in drawn if h not in handles]
        steps.append(OutlineStep(node_id, label_of(node), str(node.get("type")),
                                 about.label if about is not None else str(node.get("type")),
                                 tuple(OutlineExit(h, drawn.get(h), label_of(by_id[drawn[h]])
                                                   if drawn.get(h) in by_id else None) for h in handles)))
    return steps


def label_of(node: Mapping[str, Any]) -> str:
    """A node's label on the diagram, else its id."""
    metadata = node.get("metadata")
    label = metadata.get("label") if isinstance(metadata, Mapping) else None
    return label if isinstance(label, str) and label.strip() else str(node.get("id"))


@dataclass(frozen=True)
class Findings:
    """A version's problems as the designer reads them: errors, warnings, and (apart) what Refluxo cannot run."""

    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    portability: tuple[Problem, ...]


def findings(rt: Runtime, body: Any, uow: UnitOfWork | None = None) -> Findings:
    """Every problem of ``body``, the portability warnings set apart (they matter only for running elsewhere)."""
    problems = check(rt, body, uow)
    apart = set(portability_problems(body, rt.node_types))
    return Findings(tuple(p for p in problems if p.severity == "error"),
                    tuple(p for p in problems if p.severity != "error" and p not in apart),
                    tuple(p for p in problems if p in apart))


@dataclass(frozen=True)
class PublishPreview:
    """What publishing the draft would change: against the newest published version, and who it strands."""

    draft: ProcessDefinition
    against: int | None  # the published version compared with (None: the first publication)
    changes: VersionDiff | None
    stranded: tuple[Stranded, ...]


def publish_preview(uow: UnitOfWork, versions: list[ProcessDefinition]) -> PublishPreview | None:
    """The preview for the draft among ``versions`` (newest first), or None when there is no draft."""
    draft = next((v for v in versions if v.status == DefinitionStatus.DRAFT), None)
    if draft is None:
        return None
    published = next((v for v in versions if v.status == DefinitionStatus.PUBLISHED), None)
    return PublishPreview(draft, published.version if published is not None else None,
                          diff(published.body, draft.body) if published is not None else None,
                          tuple(stranded(uow, draft.key, draft.body)))
