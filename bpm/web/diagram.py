"""The process diagram: an SVG of a definition drawn on the server, with the path an instance took marked.

Positions come from the nodes' ``metadata.position`` (React Flow's, as a
visual editor writes them) when every node has one; otherwise a layered
layout: each node in the column of its longest path from the start (edges
that close a loop are left out of that count), rows ordered by the average
row of their predecessors. Edges are routed around the boxes on separate
ports and tracks (``bpm.web.routing``). The inbox, the audit pages and the
designer use this one renderer.

An instance's state is marked by shape and words as well as colour: a
visited node has a tick and a solid border, the current one a thick border
and "now", a failed one a cross and "failed"; the edges the run took are
solid, the others dashed. No inline style (the CSP forbids it): classes only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from bpm.engine.positions import nodes_at
from bpm.nodes.types import NodeType
from bpm.web.routing import Route, route_edges

NODE_W, NODE_H = 168, 60
GAP_X, GAP_Y = 88, 40
MARGIN = 24
LABEL_CHARS = 22

TYPE_NAMES = {"start": "start", "end": "end", "human-task": "task", "decision": "decision", "timer": "timer",
              "set": "set", "notify": "notify"}


@dataclass(frozen=True)
class Box:
    """Where a node is drawn: its top-left corner."""

    id: str
    x: float
    y: float

    @property
    def right(self) -> float:
        return self.x + NODE_W

    @property
    def bottom(self) -> float:
        return self.y + NODE_H


@dataclass(frozen=True)
class RunState:
    """What an instance's snapshot says about each node: visited, current (one per branch), failed."""

    visited: frozenset[str] = frozenset()
    current: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    taken: frozenset[tuple[str, str]] = frozenset()  # (source, target) of edges the run followed

    @classmethod
    def of(cls, snapshot: Mapping[str, Any] | None, definition: Mapping[str, Any]) -> RunState:
        """Read a snapshot (Refluxo's wire format) against its definition."""
        if not snapshot:
            return cls()
        context = snapshot.get("context") or {}
        visited = frozenset(node for node, runs in context.items() if runs)
        status = snapshot.get("status")
        current = frozenset(nodes_at(snapshot))
        failed = frozenset(node for node, runs in context.items()
                           if runs and runs[-1].get("error") and status in ("failed", "error") and node in current)
        edges = [e for e in definition.get("edges", []) if isinstance(e, dict)]
        taken = frozenset((e["source"], e["target"]) for e in edges
                          if e.get("source") in visited and (e.get("target") in visited or e.get("target") in current))
        return cls(visited, current, failed, taken)


def _nodes(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [n for n in definition.get("nodes", []) if isinstance(n, dict) and isinstance(n.get("id"), str)]


def _edges(definition: Mapping[str, Any], known: set[str]) -> list[Mapping[str, Any]]:
    return [e for e in definition.get("edges", []) if isinstance(e, dict)
            and e.get("source") in known and e.get("target") in known]


def layout(definition: Mapping[str, Any]) -> dict[str, Box]:
    """Every node's box: the editor's positions when all nodes have one, else the layered layout."""
    nodes = _nodes(definition)
    positions = {}
    for node in nodes:
        position = (node.get("metadata") or {}).get("position") if isinstance(node.get("metadata"), dict) else None
        if isinstance(position, dict) and all(isinstance(position.get(k), int | float) for k in ("x", "y")):
            positions[node["id"]] = (float(position["x"]), float(position["y"]))
    if len(positions) == len(nodes) and nodes and not _overlapping(positions):
        left = min(x for x, _ in positions.values())
        top = min(y for _, y in positions.values())
        return {node_id: Box(node_id, x - left + MARGIN, y - top + MARGIN) for node_id, (x, y) in positions.items()}
    return _layered(nodes, _edges(definition, {n["id"] for n in nodes}))


def _overlapping(positions: Mapping[str, tuple[float, float]]) -> bool:
    """Editors place nodes by their own sizes; ours may be larger: then the layered layout draws it instead."""
    boxes = list(positions.values())
    return any(abs(a[0] - b[0]) < NODE_W and abs(a[1] - b[1]) < NODE_H
               for i, a in enumerate(boxes) for b in boxes[i + 1:])


def _layered(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]) -> dict[str, Box]:
    ids = [n["id"] for n in nodes]
    successors: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for edge in edges:
        if edge["target"] not in successors[edge["source"]]:
            successors[edge["source"]].append(edge["target"])
    starts = [n["id"] for n in nodes if n.get("type") == NodeType.START] or ids[:1]
    forward = _forward_edges(starts + ids, successors)
    column = {node_id: 0 for node_id in ids}
    for node_id in _topological(ids, forward):
        for target in forward[node_id]:
            column[target] = max(column[target], column[node_id] + 1)
    columns: dict[int, list[str]] = {}
    for node_id in ids:
        columns.setdefault(column[node_id], []).append(node_id)
    row: dict[str, float] = {}
    for index in sorted(columns):
        members = columns[index]
        predecessors = {m: [row[s] for s in ids if m in forward[s] and s in row] for m in members}
        members.sort(key=lambda m: (sum(predecessors[m]) / len(predecessors[m]) if predecessors[m] else 0,
                                    ids.index(m)))
        for place, member in enumerate(members):
            row[member] = place
    return {node_id: Box(node_id, MARGIN + column[node_id] * (NODE_W + GAP_X), MARGIN + row[node_id] * (NODE_H + GAP_Y))
            for node_id in ids}


def _forward_edges(order: Sequence[str], successors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The edges without those that close a loop (found by a depth-first walk from the start)."""
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    forward: dict[str, list[str]] = {node_id: [] for node_id in successors}
    for root in order:
        if root in state:
            continue
        stack = [(root, iter(successors[root]))]
        state[root] = 1
        while stack:
            node_id, pending = stack[-1]
            target = next(pending, None)
            if target is None:
                state[node_id] = 2
                stack.pop()
            elif state.get(target) == 1:
                continue  # back to a node on the path: a loop
            else:
                forward[node_id].append(target)
                if target not in state:
                    state[target] = 1
                    stack.append((target, iter(successors[target])))
    return forward


def _topological(ids: Sequence[str], forward: Mapping[str, list[str]]) -> list[str]:
    incoming = {node_id: 0 for node_id in ids}
    for targets in forward.values():
        for target in targets:
            incoming[target] += 1
    ready = [node_id for node_id in ids if incoming[node_id] == 0]
    ordered = []
    while ready:
        node_id = ready.pop(0)
        ordered.append(node_id)
        for target in forward[node_id]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return ordered


def _wrap(text: str) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > LABEL_CHARS and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], (lines[1] + " " + " ".join(lines[2:]))[:LABEL_CHARS - 1] + "…"]
    return [line[:LABEL_CHARS] for line in lines]


def render_svg(definition: Mapping[str, Any], state: RunState | None = None, title: str | None = None) -> str:
    """The diagram as an accessible SVG element (``role="img"``, a title and a description in words)."""
    state = state or RunState()
    nodes = _nodes(definition)
    boxes = layout(definition)
    edges = _edges(definition, set(boxes))
    routes = route_edges(edges, boxes, MARGIN)
    lowest = max((y for r in routes for _, y in r.points), default=0)
    width = max((b.right for b in boxes.values()), default=0) + MARGIN
    height = max(max((b.bottom for b in boxes.values()), default=0), lowest) + MARGIN
    name = title or str(definition.get("name") or definition.get("id") or "process")
    labels = {n["id"]: str((n.get("metadata") or {}).get("label") or n["id"])
              if isinstance(n.get("metadata"), dict) else n["id"] for n in nodes}
    summary = _summary(nodes, labels, state)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width:.0f} {height:.0f}" '
             f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="diagram-title diagram-desc">',
             f'<title id="diagram-title">Diagram of {escape(name)}</title>',
             f'<desc id="diagram-desc">{escape(summary)}</desc>',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head"/></marker></defs>']
    for edge, route in zip(edges, routes, strict=True):
        parts.append(_edge(edge, route, state))
    for node in nodes:
        parts.append(_node(node, boxes[node["id"]], labels[node["id"]], state))
    parts.append("</svg>")
    return "".join(parts)


def caption(definition: Mapping[str, Any], state: RunState) -> str:
    """Where the run is, in words: shown under the diagram (and its description for screen readers)."""
    nodes = _nodes(definition)
    labels = {n["id"]: str((n.get("metadata") or {}).get("label") or n["id"])
              if isinstance(n.get("metadata"), dict) else n["id"] for n in nodes}
    return _summary(nodes, labels, state).split(". ", 1)[1] if state.visited else ""


def _summary(nodes: Sequence[Mapping[str, Any]], labels: Mapping[str, str], state: RunState) -> str:
    steps = ", ".join(labels[n["id"]] for n in nodes)
    said = [f"Steps: {steps}."]
    if state.visited:
        said.append("Done: " + ", ".join(labels[n["id"]] for n in nodes
                                         if n["id"] in state.visited and n["id"] not in state.current) + ".")
    if state.current:
        now = [n["id"] for n in nodes if n["id"] in state.current]
        said.append("Now at: " + " and ".join(labels[n] + (" (failed)" if n in state.failed else "") for n in now)
                    + ".")
    return " ".join(said)


def _edge(edge: Mapping[str, Any], route: Route, state: RunState) -> str:
    taken = (edge["source"], edge["target"]) in state.taken
    css = "edge taken" if taken else "edge"
    handle = edge.get("sourceHandle")
    x, y = route.label_at
    label = (f'<text class="edge-label" x="{x:.0f}" y="{y:.0f}" text-anchor="{route.label_anchor}">'
             f'{escape(str(handle))}</text>' if handle else "")
    return (f'<g class="{css}" data-edge="{escape(str(edge.get("id", "")))}"><path d="{route.path()}" '
            f'marker-end="url(#arrow)"/>{label}</g>')


def _node(node: Mapping[str, Any], box: Box, label: str, state: RunState) -> str:
    node_id = node["id"]
    kind = TYPE_NAMES.get(str(node.get("type")), str(node.get("type")))
    classes = ["node", f"type-{kind}"]
    mark = ""
    if node_id in state.failed:
        classes.append("failed")
        mark = "✕ failed"
    elif node_id in state.current:
        classes.append("current")
        mark = "▶ now"
    elif node_id in state.visited:
        classes.append("visited")
        mark = "✓ done"
    corner = 30 if kind in ("start", "end") else 8
    shape = f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="{corner}"/>'
    lines = _wrap(label)
    text_y = box.y + (22 if len(lines) == 2 else 30)
    words = "".join(f'<tspan x="{box.x + 10:.0f}" y="{text_y + 15 * i:.0f}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    status = (f'<text class="mark" x="{box.right - 8:.0f}" y="{box.bottom - 8:.0f}" text-anchor="end">{mark}</text>'
              if mark else "")
    caption = f'<text class="kind" x="{box.x + 10:.0f}" y="{box.bottom - 8:.0f}">{escape(kind)}</text>'
    said = f"{label} ({kind}{', ' + mark.split(' ', 1)[1] if mark else ''})"
    return (f'<g class="{" ".join(classes)}" data-node="{escape(node_id)}"><title>{escape(said)}</title>{shape}'
            f'<text class="label">{words}</text>{caption}{status}</g>')


@dataclass(frozen=True)
class Step:
    """One step as the narrow screens' list of steps says it: its label and where the run is with it."""

    label: str
    mark: str  # "done", "now", "failed" or ""


def steps_in_order(definition: Mapping[str, Any], state: RunState) -> list[Step]:
    """The steps from left to right (top to bottom within a column), for screens too narrow for the drawing."""
    nodes = {n["id"]: n for n in _nodes(definition)}
    boxes = layout(definition)
    listed = []
    for node_id in sorted(boxes, key=lambda i: (boxes[i].x, boxes[i].y)):
        node = nodes[node_id]
        label = str((node.get("metadata") or {}).get("label") or node_id) if isinstance(node.get("metadata"), dict) \
            else node_id
        mark = ("failed" if node_id in state.failed else "now" if node_id in state.current
                else "done" if node_id in state.visited else "")
        listed.append(Step(label, mark))
    return listed
