"""WorkflowDefinition: the JSON nodes-and-edges document, loaded and indexed.

The shape is the one React Flow and Svelte Flow editors emit, so a visual
editor can produce it directly. Loading checks only what is needed to run
(shape, unique ids, edges that point at real nodes); ``validate_definition``
reports everything else a designer should fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bpm.engine.errors import DefinitionError, Problem
from bpm.engine.jsonvalue import NotJsonError, to_json_value

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Node:
    """One step of a process: its id, its type name and its static data."""

    id: str
    type: str
    data: Any = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def to_dict(self) -> dict[str, Any]:
        """Return the node in wire format."""
        out: dict[str, Any] = {"id": self.id, "type": self.type, "data": to_json_value(self.data)}
        if self.metadata:
            out["metadata"] = to_json_value(self.metadata)
        return out


@dataclass(frozen=True, slots=True)
class Edge:
    """A connection; ``source_handle`` None is the default (handle-less) exit."""

    id: str
    source: str
    target: str
    source_handle: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the edge in wire format (``sourceHandle`` always present)."""
        return {"id": self.id, "source": self.source, "target": self.target,
                "sourceHandle": self.source_handle}


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """A loaded definition with the indexes the engine needs on every step."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()
    id: str | None = None
    name: str | None = None
    version: int | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    nodes_by_id: Mapping[str, Node] = field(default_factory=lambda: _EMPTY, compare=False, repr=False)
    exits: Mapping[str, Mapping[str | None, str]] = field(
        default_factory=lambda: _EMPTY, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes_by_id", MappingProxyType({n.id: n for n in self.nodes}))
        exits: dict[str, dict[str | None, str]] = {}
        for edge in self.edges:
            exits.setdefault(edge.source, {}).setdefault(edge.source_handle, edge.target)
        object.__setattr__(self, "exits", MappingProxyType(exits))

    def next_node_id(self, node_id: str, handle: str | None) -> str | None:
        """Return the target of the first edge leaving ``node_id`` by ``handle``, if any."""
        by_handle = self.exits.get(node_id)
        return by_handle.get(handle) if by_handle else None

    @classmethod
    def from_dict(cls, raw: Any) -> WorkflowDefinition:
        """Load a definition from its wire form, raising DefinitionError with every shape problem."""
        problems: list[Problem] = []
        definition = parse_definition(raw, problems)
        if definition is None or any(p.severity == "error" for p in problems):
            raise DefinitionError(problems)
        return definition

    @classmethod
    def from_json(cls, text: str | bytes) -> WorkflowDefinition:
        """Load a definition from JSON text."""
        return cls.from_dict(decode_json(text))

    def to_dict(self) -> dict[str, Any]:
        """Return the definition in wire format."""
        out: dict[str, Any] = {}
        for key in ("id", "name", "version"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(to_json_value(self.extra))
        out["nodes"] = [n.to_dict() for n in self.nodes]
        out["edges"] = [e.to_dict() for e in self.edges]
        return out


def decode_json(text: str | bytes) -> Any:
    """Parse JSON text, turning a syntax error into a DefinitionError."""
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        raise DefinitionError([Problem("$", f"not valid JSON: {exc}")]) from None


def load_definition(workflow: WorkflowDefinition | Mapping[str, Any] | str | bytes) -> WorkflowDefinition:
    """Accept a loaded definition, its dict form or its JSON text."""
    if isinstance(workflow, WorkflowDefinition):
        return workflow
    if isinstance(workflow, (str, bytes)):
        return WorkflowDefinition.from_json(workflow)
    return WorkflowDefinition.from_dict(workflow)


def parse_definition(raw: Any, problems: list[Problem]) -> WorkflowDefinition | None:
    """Build a definition from ``raw``, appending shape problems; None if unusable."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            problems.append(Problem("$", f"not valid JSON: {exc}"))
            return None
    if not isinstance(raw, Mapping):
        problems.append(Problem("$", "a definition must be a JSON object with 'nodes' and 'edges'"))
        return None
    nodes = _parse_list(raw, "nodes", _parse_node, problems, required=True)
    edges = _parse_list(raw, "edges", _parse_edge, problems, required=False)
    header = _parse_header(raw, problems)
    if nodes is None or edges is None or header is None:
        return None
    _check_ids(nodes, edges, problems)
    return WorkflowDefinition(nodes=tuple(nodes), edges=tuple(edges), **header)


def _parse_header(raw: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    ok = True
    for key in ("id", "name"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            problems.append(Problem(f"$.{key}", "must be a string"))
            ok = False
    version = raw.get("version")
    if version is not None and (type(version) is not int or version < 1):
        problems.append(Problem("$.version", "must be a positive whole number"))
        ok = False
    extra = {k: v for k, v in raw.items() if k not in ("id", "name", "version", "nodes", "edges")}
    try:
        extra = to_json_value(extra)
    except NotJsonError as exc:
        problems.append(Problem(exc.path, str(exc)))
        ok = False
    if not ok:
        return None
    return {"id": raw.get("id"), "name": raw.get("name"), "version": version,
            "extra": MappingProxyType(extra)}


def _parse_list(raw: Mapping[str, Any], key: str, parse_item: Any, problems: list[Problem],
                required: bool) -> list[Any] | None:
    items = raw.get(key)
    if items is None:
        if required:
            problems.append(Problem(f"$.{key}", f"'{key}' is required"))
            return None
        return []
    if not isinstance(items, list):
        problems.append(Problem(f"$.{key}", "must be a list"))
        return None
    parsed = [parse_item(item, f"$.{key}[{i}]", problems) for i, item in enumerate(items)]
    return None if any(p is None for p in parsed) else parsed


def _required_string(item: Mapping[str, Any], key: str, path: str, problems: list[Problem]) -> str | None:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        problems.append(Problem(f"{path}.{key}", f"'{key}' must be a non-empty string"))
        return None
    return value


def _parse_node(item: Any, path: str, problems: list[Problem]) -> Node | None:
    if not isinstance(item, Mapping):
        problems.append(Problem(path, "a node must be an object with 'id' and 'type'"))
        return None
    node_id = _required_string(item, "id", path, problems)
    node_type = _required_string(item, "type", path, problems)
    metadata = item.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        problems.append(Problem(f"{path}.metadata", "must be an object"))
        return None
    try:
        data = to_json_value(item.get("data", {}), f"{path}.data")
        metadata = MappingProxyType(to_json_value(metadata or {}, f"{path}.metadata"))
    except NotJsonError as exc:
        problems.append(Problem(exc.path, str(exc).split(": ", 1)[-1]))
        return None
    if node_id is None or node_type is None:
        return None
    return Node(id=node_id, type=node_type, data=data, metadata=metadata)


def _parse_edge(item: Any, path: str, problems: list[Problem]) -> Edge | None:
    if not isinstance(item, Mapping):
        problems.append(Problem(path, "an edge must be an object with 'id', 'source' and 'target'"))
        return None
    edge_id = _required_string(item, "id", path, problems)
    source = _required_string(item, "source", path, problems)
    target = _required_string(item, "target", path, problems)
    handle = item.get("sourceHandle")
    if handle is not None and not isinstance(handle, str):
        problems.append(Problem(f"{path}.sourceHandle", "must be a string or null"))
        return None
    if edge_id is None or source is None or target is None:
        return None
    return Edge(id=edge_id, source=source, target=target, source_handle=handle)


def _check_ids(nodes: list[Node], edges: list[Edge], problems: list[Problem]) -> None:
    """Report duplicate ids and dangling edges: without them the graph is ambiguous."""
    seen: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node.id in seen:
            problems.append(Problem(f"$.nodes[{i}].id",
                                    f"node id '{node.id}' is already used by $.nodes[{seen[node.id]}]"))
        else:
            seen[node.id] = i
    seen_edges: dict[str, int] = {}
    for i, edge in enumerate(edges):
        if edge.id in seen_edges:
            problems.append(Problem(f"$.edges[{i}].id",
                                    f"edge id '{edge.id}' is already used by $.edges[{seen_edges[edge.id]}]"))
        else:
            seen_edges[edge.id] = i
        for end in ("source", "target"):
            node_id = getattr(edge, end)
            if node_id not in seen:
                problems.append(Problem(f"$.edges[{i}].{end}",
                                        f"edge '{edge.id}' points at node '{node_id}', which does not exist"))
