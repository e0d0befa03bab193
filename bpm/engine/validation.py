"""validate_definition: every problem a process designer should fix, in one pass."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping
from typing import Any

from bpm.engine.definition import WorkflowDefinition, load_definition, parse_definition
from bpm.engine.errors import DefinitionError, ExpressionError, Problem
from bpm.engine.expressions.portability import template_findings
from bpm.engine.expressions.scope import RESERVED_NAMES
from bpm.engine.expressions.template import compile_template, iter_expressions
from bpm.engine.node import NodeDefinition
from bpm.engine.roles import NodeRole, role_of
from bpm.engine.schema import JsonSchemaValidator

_schemas = JsonSchemaValidator()


def validate_definition(
    definition: WorkflowDefinition | Mapping[str, Any] | str | bytes,
    node_definitions: Mapping[str, NodeDefinition],
    start_node_ids: Collection[str] | None = None,
    portable: bool = False,
) -> list[Problem]:
    """Return every problem in ``definition`` (errors and warnings), or [] if it is sound.

    Args:
        definition: the definition as an object, dict or JSON text.
        node_definitions: the node types it may use.
        start_node_ids: nodes a run may start at; by default, nodes with no incoming edge.
        portable: also warn of every expression that may mean something else in Refluxo's
            TypeScript engine with jexl@2.3.0 (our transforms and shorthand, see docs/engine.md).

    Returns:
        Problems with JSON paths, in document order; ``severity`` tells errors from warnings.
    """
    problems: list[Problem] = []
    if isinstance(definition, WorkflowDefinition):
        loaded: WorkflowDefinition | None = definition
    else:
        loaded = parse_definition(definition, problems)
    if loaded is None:
        return problems
    node_index = {node.id: i for i, node in reversed(list(enumerate(loaded.nodes)))}
    for i, node in enumerate(loaded.nodes):
        path = f"$.nodes[{i}]"
        if node.id in RESERVED_NAMES:
            problems.append(Problem(f"{path}.id", f"'{node.id}' is a reserved name in expressions; "
                                    "rename the node", "warning"))
        node_type = node_definitions.get(node.type)
        if node_type is None:
            problems.append(Problem(f"{path}.type", f"node '{node.id}' has unknown type '{node.type}'; "
                                    f"known types: {', '.join(sorted(node_definitions))}"))
        problems.extend(_expression_problems(node.id, node.data, f"{path}.data"))
        if portable:
            problems.extend(_portability_problems(node.id, node.data, f"{path}.data"))
            problems.extend(_node_portability(node.id, node.data, node_type, path))
        if node_type is not None and node_type.input_schema is not None:
            problems.extend(_data_problems(node.id, node.data, node_type.input_schema, f"{path}.data"))
    roles = {node.id: role_of(node_definitions.get(node.type)) for node in loaded.nodes}
    problems.extend(_edge_problems(loaded, roles))
    problems.extend(_branch_problems(loaded, roles, node_index))
    problems.extend(_reachability_problems(loaded, node_index, start_node_ids))
    return problems


def _branch_problems(definition: WorkflowDefinition, roles: Mapping[str, str | None],
                     node_index: Mapping[str, int]) -> list[Problem]:
    """Forks that start no parallel work, joins no fork feeds, inclusive exits that lead nowhere."""
    found = []
    out: dict[str, list[str | None]] = {}
    into: dict[str, int] = {}
    successors: dict[str, set[str]] = {}
    for edge in definition.edges:
        out.setdefault(edge.source, []).append(edge.source_handle)
        into[edge.target] = into.get(edge.target, 0) + 1
        successors.setdefault(edge.source, set()).add(edge.target)
    fed = _reachable(successors, [n for n, role in roles.items() if role == NodeRole.FORK])
    for node in definition.nodes:
        path = f"$.nodes[{node_index[node.id]}]"
        if roles[node.id] == NodeRole.FORK:
            exits = out.get(node.id, [])
            if len(exits) < 2 and not (isinstance(node.data, Mapping) and node.data.get("inclusive")):
                found.append(Problem(path, f"fork '{node.id}' has {len(exits)} way(s) out: it runs nothing in "
                                           "parallel (draw an edge to each branch)", "warning"))
            if isinstance(node.data, Mapping) and node.data.get("inclusive"):
                found.extend(_inclusive_problems(node.id, node.data, set(exits), path))
        elif roles[node.id] == NodeRole.JOIN:
            if node.id not in fed:
                found.append(Problem(path, f"join '{node.id}' is not after any fork: it waits for nothing and "
                                           "lets every arrival through", "warning"))
            elif into.get(node.id, 0) < 2:
                found.append(Problem(path, f"join '{node.id}' has one way in: it fires for each branch that "
                                           "comes that way, not once for all", "warning"))
    return found


def _inclusive_problems(node_id: str, data: Mapping[str, Any], exits: set[str | None], path: str) -> list[Problem]:
    found = []
    for j, rule in enumerate(data.get("rules") or []):
        handle = rule.get("handle") if isinstance(rule, Mapping) else None
        if isinstance(handle, str) and handle not in exits:
            found.append(Problem(f"{path}.data.rules[{j}].handle",
                                 f"fork '{node_id}': no edge leaves by '{handle}', so this branch goes nowhere"))
    default = data.get("default")
    if isinstance(default, str) and default not in exits:
        found.append(Problem(f"{path}.data.default", f"fork '{node_id}': no edge leaves by the default '{default}'"))
    return found


def _reachable(successors: Mapping[str, set[str]], starts: list[str]) -> set[str]:
    """Every node reachable from ``starts`` by at least one edge."""
    reached: set[str] = set()
    queue = deque(target for start in starts for target in successors.get(start, ()))
    while queue:
        node = queue.popleft()
        if node not in reached:
            reached.add(node)
            queue.extend(successors.get(node, ()))
    return reached


def check_definition(definition: Any, node_definitions: Mapping[str, NodeDefinition],
                     start_node_ids: Collection[str] | None = None) -> WorkflowDefinition:
    """Load ``definition`` if it has no error-severity problem, else raise DefinitionError."""
    problems = validate_definition(definition, node_definitions, start_node_ids)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DefinitionError(errors)
    return load_definition(definition)


def portability_problems(definition: WorkflowDefinition | Mapping[str, Any] | str | bytes,
                         node_definitions: Mapping[str, NodeDefinition] | None = None) -> list[Problem]:
    """Only the warnings ``portable=True`` adds: what may mean something else in Refluxo's engine, or not run."""
    loaded = definition if isinstance(definition, WorkflowDefinition) else parse_definition(definition, [])
    if loaded is None:
        return []
    types = node_definitions or {}
    return [problem for i, node in enumerate(loaded.nodes)
            for problem in [*_portability_problems(node.id, node.data, f"$.nodes[{i}].data"),
                            *_node_portability(node.id, node.data, types.get(node.type), f"$.nodes[{i}]")]]


def _node_portability(node_id: str, data: Any, node_type: NodeDefinition | None, path: str) -> list[Problem]:
    """What a node type's registry entry says Refluxo's engine cannot run: the type itself, or some of its data.

    A type declares it in its metadata: ``"refluxo": reason`` for the whole type, ``"refluxoData": {key: reason}``
    for data keys that need this engine (a fork's branches, a task writing the request's data).
    """
    metadata = node_type.metadata if node_type is not None and node_type.metadata else {}
    found = []
    if isinstance(metadata.get("refluxo"), str):
        found.append(Problem(f"{path}.type", f"node '{node_id}': not runnable by Refluxo: {metadata['refluxo']}",
                             "warning"))
    for key, reason in (metadata.get("refluxoData") or {}).items():
        if isinstance(data, Mapping) and key in data:
            found.append(Problem(f"{path}.data.{key}", f"node '{node_id}': not runnable by Refluxo: {reason}",
                                 "warning"))
    return found


def _expression_problems(node_id: str, data: Any, path: str) -> list[Problem]:
    found = []
    for where, text in iter_expressions(data, path):
        try:
            compile_template(text)
        except ExpressionError as exc:
            found.append(Problem(where, f"node '{node_id}': expression '{exc.expression}' {exc.detail}"))
    return found


def _portability_problems(node_id: str, data: Any, path: str) -> list[Problem]:
    found = []
    for where, text in iter_expressions(data, path):
        try:
            template = compile_template(text)
        except ExpressionError:
            continue  # an error already, reported by _expression_problems
        found.extend(Problem(where, f"node '{node_id}': not portable to Refluxo's Jexl: {finding.message}",
                             "warning") for finding in template_findings(template))
    return found


def _data_problems(node_id: str, data: Any, schema: Mapping[str, Any], path: str) -> list[Problem]:
    """Schema violations of static data; a value that is an expression is checked at run time."""
    if _schemas.validate(data, schema).valid:
        return []  # remembered: a designer's draft is checked again and again, its nodes mostly unchanged
    dynamic = {where for where, _ in iter_expressions(data, path)}
    found = []
    for problem in _schemas.problems(data, schema, path):
        if any(problem.path == d or problem.path.startswith(d + ".") or problem.path.startswith(d + "[")
               for d in dynamic):
            continue
        found.append(Problem(problem.path, f"node '{node_id}': {problem.message}"))
    return found


def _edge_problems(definition: WorkflowDefinition, roles: Mapping[str, str | None]) -> list[Problem]:
    found = []
    first_by_exit: dict[tuple[str, str | None], str] = {}
    for i, edge in enumerate(definition.edges):
        if roles.get(edge.source) == NodeRole.FORK:
            continue  # a fork takes every edge of an exit: several are the point
        key = (edge.source, edge.source_handle)
        if key in first_by_exit:
            handle = ("the default handle" if edge.source_handle is None
                      else f"handle '{edge.source_handle}'")
            found.append(Problem(
                f"$.edges[{i}]",
                f"edge '{edge.id}' leaves node '{edge.source}' by {handle}, like edge "
                f"'{first_by_exit[key]}'; only the first is ever followed", "warning"))
        else:
            first_by_exit[key] = edge.id
    return found


def _reachability_problems(definition: WorkflowDefinition, node_index: dict[str, int],
                           start_node_ids: Collection[str] | None) -> list[Problem]:
    targets = {edge.target for edge in definition.edges}
    if start_node_ids is None:
        starts = [node.id for node in definition.nodes if node.id not in targets]
    else:
        starts = [node_id for node_id in start_node_ids if node_id in node_index]
    if not starts:
        return [Problem("$.nodes", "no start node: every node has an incoming edge, so a run "
                                   "cannot begin anywhere")]
    successors: dict[str, list[str]] = {}
    for edge in definition.edges:
        successors.setdefault(edge.source, []).append(edge.target)
    reached = set(starts)
    queue = deque(starts)
    while queue:
        for target in successors.get(queue.popleft(), ()):
            if target not in reached:
                reached.add(target)
                queue.append(target)
    return [Problem(f"$.nodes[{node_index[node.id]}]",
                    f"node '{node.id}' cannot be reached from a start node")
            for node in definition.nodes if node.id not in reached]
