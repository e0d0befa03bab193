"""Where a request can go wrong by the shape of its process: exits that lead nowhere, edges never taken, loops
with no way to an end.

Each node type's registry entry says which exits a node has (``About.exits``),
so these rules hold for plug-in types as for the built-in ones. As in Refluxo,
a node no edge leaves finishes the request (without an outcome), so an exit
without an edge is a warning, not an error: it is legal, and usually a slip.
A loop that no way out leaves is an error: a request that enters it never ends.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from bpm.engine import NodeDefinition, NodeRole, Problem, WorkflowDefinition
from bpm.engine.definition import Node
from bpm.engine.roles import role_of
from bpm.nodes import END_HANDLE
from bpm.nodes.about import Exits, about_of


def node_name(node: Node) -> str:
    """How a person knows a node: its label on the diagram, else its id."""
    label = node.metadata.get("label") if isinstance(node.metadata, Mapping) else None
    return f"'{label}'" if isinstance(label, str) and label.strip() else f"'{node.id}'"


def exits_by_node(definition: WorkflowDefinition, node_types: Mapping[str, NodeDefinition]) -> dict[str, Exits]:
    """The exits of every node whose exits are known before it runs."""
    found = {}
    for node in definition.nodes:
        about = about_of(node_types.get(node.type))
        exits = about.exits_of(node.data) if about is not None else None
        if exits is not None:
            found[node.id] = exits
    return found


def flow_problems(definition: WorkflowDefinition, node_types: Mapping[str, NodeDefinition]) -> list[Problem]:
    """Exits without an edge, edges no exit takes, nodes from which no end can be reached."""
    exits = exits_by_node(definition, node_types)
    index = {node.id: i for i, node in enumerate(definition.nodes)}
    return [*_open_exits(definition, exits, index), *_edges_never_taken(definition, exits, node_types),
            *_dead_ends(definition, exits, node_types, index), *_busy_loops(definition, node_types, index)]


WAITING = (NodeRole.HUMAN_TASK, NodeRole.TIMER, NodeRole.CALL)
"""Roles of the nodes that wait for something outside the run: a loop through one of them paces itself."""


def _busy_loops(definition: WorkflowDefinition, node_types: Mapping[str, NodeDefinition],
                index: Mapping[str, int]) -> list[Problem]:
    """Loops that no task, timer or call interrupts: they run step after step until a limit stops the request."""
    successors: dict[str, set[str]] = {}
    for edge in definition.edges:
        successors.setdefault(edge.source, set()).add(edge.target)
    found = []
    for component in _cycles(definition, successors):
        nodes = [node for node in definition.nodes if node.id in component]
        if any(role_of(node_types.get(node.type)) in WAITING for node in nodes):
            continue
        first = nodes[0]
        found.append(Problem(f"$.nodes[{index[first.id]}]", (
            f"{node_name(first)} is in a loop ({', '.join(n.id for n in nodes)}) that no task, timer or call "
            "interrupts: it runs without pause until a limit fails the request (BPM_MAX_STEPS_PER_INSTANCE); "
            "put a waiting step in it, or make sure a rule leads out"), "warning"))
    return found


def _cycles(definition: WorkflowDefinition, successors: Mapping[str, set[str]]) -> list[set[str]]:
    """The strongly connected parts of the graph that hold a loop (Tarjan's algorithm, without recursion)."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in (node.id for node in definition.nodes):
        if root in index_of:
            continue
        work = [(root, iter(sorted(successors.get(root, ()))))]
        index_of[root] = low[root] = len(index_of)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index_of:
                    index_of[child] = low[child] = len(index_of)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index_of[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index_of[node]:
                part: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.add(member)
                    if member == node:
                        break
                if len(part) > 1 or node in successors.get(node, ()):
                    found.append(part)
    return found


def _open_exits(definition: WorkflowDefinition, exits: Mapping[str, Exits],
                index: Mapping[str, int]) -> list[Problem]:
    """An exit no edge leaves by: a request that goes that way stops there, never reaching an end."""
    drawn: dict[str, set[str | None]] = {}
    for edge in definition.edges:
        drawn.setdefault(edge.source, set()).add(edge.source_handle)
    found = []
    for node in definition.nodes:
        path = f"$.nodes[{index[node.id]}]"
        for handle in exits.get(node.id, ()):
            if handle in drawn.get(node.id, set()):
                continue
            data = node.data if isinstance(node.data, Mapping) else {}
            if handle is None and "rules" in data:
                found.append(Problem(f"{path}.data.default", (
                    f"{node_name(node)} has no default exit: when no rule holds, the request stops there without "
                    "reaching an end; name a default exit (and draw its edge) or draw an edge without a handle"),
                    "warning"))
            elif handle is None:
                found.append(Problem(path, f"{node_name(node)} has no way on: the request finishes there without an "
                                           "outcome; draw an edge to the next step or to an end", "warning"))
            else:
                found.append(Problem(_exit_path(path, data, handle), (
                    f"{node_name(node)} can leave by '{handle}', but no edge leaves by it: a request that goes "
                    "that way stops there without reaching an end"), "warning"))
    return found


def _exit_path(path: str, data: Mapping[str, object], handle: str) -> str:
    """The place in a node's data where an exit is named (an outcome, a rule's handle, the default)."""
    for key in ("outcomes", "rules", "escalations"):
        listed = data.get(key)
        for j, item in enumerate(listed if isinstance(listed, list) else ()):
            if item == handle or (isinstance(item, Mapping) and item.get("handle") == handle):
                return f"{path}.data.{key}[{j}]" + ("" if item == handle else ".handle")
    return f"{path}.data.default" if data.get("default") == handle else path


def _edges_never_taken(definition: WorkflowDefinition, exits: Mapping[str, Exits],
                       node_types: Mapping[str, NodeDefinition]) -> list[Problem]:
    """Edges a node can never take (the process would silently end there), and edges out of ends."""
    found = []
    for i, edge in enumerate(definition.edges):
        source = definition.nodes_by_id.get(edge.source)
        if source is None:
            continue  # a dangling edge is already reported
        if role_of(node_types.get(source.type)) == NodeRole.END or edge.source_handle == END_HANDLE:
            found.append(Problem(f"$.edges[{i}]", f"edge '{edge.id}' leaves end node '{edge.source}'; "
                                                  "an end node finishes the process"))
        elif edge.source in exits and edge.source_handle not in exits[edge.source]:
            handle = "the default handle" if edge.source_handle is None else f"'{edge.source_handle}'"
            choices = ", ".join(sorted(str(h) for h in exits[edge.source] if h is not None)) or "its default exit"
            found.append(Problem(f"$.edges[{i}].sourceHandle",
                                 f"edge '{edge.id}' can never be taken: node '{edge.source}' never leaves by "
                                 f"{handle}; it leaves by: {choices}"))
    return found


def _dead_ends(definition: WorkflowDefinition, exits: Mapping[str, Exits],
               node_types: Mapping[str, NodeDefinition], index: Mapping[str, int]) -> list[Problem]:
    """Nodes from which no end can be reached: a loop with no way out keeps a request forever.

    A node with an open exit, or whose exits only a run can tell, counts as a way out here: the first is
    reported on its own, the second cannot be judged before it runs.
    """
    ends = [node for node in definition.nodes if role_of(node_types.get(node.type)) == NodeRole.END]
    drawn: dict[str, set[str | None]] = {}
    predecessors: dict[str, set[str]] = {}
    for edge in definition.edges:
        drawn.setdefault(edge.source, set()).add(edge.source_handle)
        predecessors.setdefault(edge.target, set()).add(edge.source)
    outs = [node.id for node in definition.nodes
            if node.id not in exits or any(h not in drawn.get(node.id, set()) for h in exits[node.id])]
    can_finish = _reaching(predecessors, [node.id for node in ends] + outs)
    targets = {edge.target for edge in definition.edges}
    successors: dict[str, set[str]] = {}
    for edge in definition.edges:
        successors.setdefault(edge.source, set()).add(edge.target)
    starts = [node.id for node in definition.nodes if role_of(node_types.get(node.type)) == NodeRole.START
              or node.id not in targets]
    reached = _reaching(successors, starts)  # a node no one reaches is reported as such, not again here
    return [Problem(f"$.nodes[{index[node.id]}]", (
        f"{node_name(node)} cannot reach an end: every way on from it leads into a loop with no way out, so a "
        "request that gets there never finishes; give the loop an exit that leads to an end"))
        for node in definition.nodes if node.id in reached and node.id not in can_finish]


def _reaching(links: Mapping[str, set[str]], starts: list[str]) -> set[str]:
    """``starts`` and every node reachable from them along ``links``."""
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for other in links.get(queue.popleft(), ()):
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return seen
