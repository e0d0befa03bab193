"""What a process's expressions read, held against what can be there: a field its form does not have
(``submit.last.data.prize`` when the field is ``price``), a node that cannot have run yet, a text field
compared with a number.

Such a read is not an error to the engine (it gives ``undefined``, and a
decision quietly takes its default), which is why it has to be caught here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from bpm.engine import NodeDefinition, NodeRole, Problem, WorkflowDefinition
from bpm.engine.definition import Node
from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.reads import member_chains, numeric_comparisons
from bpm.engine.expressions.template import compile_template, has_expression, iter_expressions
from bpm.engine.roles import role_of
from bpm.forms import Forms
from bpm.nodes.human_task import field_map
from bpm.runtime.flow_checks import node_name


class Read(NamedTuple):
    """One dotted name an expression reads, resolved: the node it reads (if any) and the form field."""

    node_id: str | None  # None: the request's data (``data.F``)
    field: str | None  # the form field it reads, if it reads one
    chain: list[str]


def read_problems(definition: WorkflowDefinition, node_types: Mapping[str, NodeDefinition],
                  forms: Forms) -> list[Problem]:
    """Reads of nodes that are not there or cannot have run, of form fields that do not exist, and
    comparisons of text fields with numbers."""
    by_id = definition.nodes_by_id
    roles = {node.id: role_of(node_types.get(node.type)) for node in definition.nodes}
    fields = {node.id: _form_fields(node, forms) for node in definition.nodes
              if roles[node.id] in (NodeRole.START, NodeRole.HUMAN_TASK)}
    start = next((node for node in definition.nodes if roles[node.id] == NodeRole.START), None)
    data_fields = _data_fields(definition, fields.get(start.id) if start is not None else None)
    before = _Ancestors(definition)
    found: list[Problem] = []
    for i, node in enumerate(definition.nodes):
        for where, tree in _trees(node.data, f"$.nodes[{i}].data"):
            for chain in member_chains(tree):
                read = _resolve(chain, by_id, roles)
                if read is None:
                    continue
                problem = _read_problem(node, read, fields, data_fields, before, by_id)
                if problem is not None:
                    found.append(Problem(where, problem))
            for chain in numeric_comparisons(tree):
                read = _resolve(chain, by_id, roles)
                spec = _field_spec(read, fields, start) if read is not None else None
                if isinstance(spec, Mapping) and spec.get("type") == "string":
                    found.append(Problem(where, (
                        f"{node_name(node)} compares field '{read.field}' with a number, but the field is text: "
                        "'900' > 5000 does not compare amounts; make the field a number"), "warning"))
    return found


def _read_problem(node: Node, read: Read, fields: Mapping[str, Mapping[str, Any] | None],
                  data_fields: set[str] | None, before: _Ancestors,
                  by_id: Mapping[str, Node]) -> str | None:
    dotted = ".".join(read.chain)
    if read.node_id is None:
        if data_fields is None or read.field is None or read.field in data_fields:
            return None
        known = ", ".join(sorted(data_fields)) or "none"
        return (f"{node_name(node)} reads {dotted}, but no form or step puts '{read.field}' into the request's "
                f"data; its fields: {known}")
    if read.node_id not in by_id:
        return f"{node_name(node)} reads {dotted}, but the process has no node '{read.node_id}'"
    if read.node_id not in before.get(node.id, set()):
        return (f"{node_name(node)} reads {dotted}, but {node_name(by_id[read.node_id])} cannot have run before "
                "it (no path leads from there to here), so the value is always missing")
    form_fields = fields.get(read.node_id)
    if read.field is None or form_fields is None or read.field in form_fields:
        return None
    return (f"{node_name(node)} reads field '{read.field}' of {node_name(by_id[read.node_id])}, whose form has no "
            f"such field; its fields: {', '.join(sorted(form_fields)) or 'none'}")


def _resolve(chain: list[str], by_id: Mapping[str, Node], roles: Mapping[str, Any]) -> Read | None:
    """What a dotted name reads: ``data.F``, ``[nodes.]<id>.last.data…`` or ``[nodes.]<id>.output…``.

    A name that is neither (``item``, ``now``, a function's argument) is None: not ours to judge.
    """
    if chain[0] == "data":
        return Read(None, chain[1] if len(chain) > 1 else None, chain)
    names = chain[1:] if chain[0] == "nodes" and len(chain) > 1 else chain
    if chain[0] != "nodes" and names[0] not in by_id:
        return None
    rest = names[1:]
    if rest[:2] == ["last", "data"]:
        payload = rest[2:]
    elif rest[:1] == ["output"]:
        payload = rest[1:]
    else:
        return Read(names[0], None, chain)
    return Read(names[0], _field_in(roles.get(names[0]), payload), chain)


def _field_in(role: Any, payload: list[str]) -> str | None:
    """The form field a read of a node's output names: ``F`` for a start, ``data.F`` for a task."""
    if role == NodeRole.START and payload:
        return payload[0]
    if role == NodeRole.HUMAN_TASK and payload[:1] == ["data"] and len(payload) > 1:
        return payload[1]
    return None


def _field_spec(read: Read, fields: Mapping[str, Mapping[str, Any] | None], start: Node | None) -> Any:
    node_id = read.node_id if read.node_id is not None else (start.id if start is not None else None)
    form_fields = fields.get(node_id) if node_id is not None else None
    return form_fields.get(read.field) if form_fields is not None and read.field is not None else None


def _trees(data: Any, path: str) -> Iterator[tuple[str, Any]]:
    for where, text in iter_expressions(data, path):
        try:
            compiled = compile_template(text)
        except ExpressionError:
            continue  # reported by the engine's checks
        for expression in compiled.expressions:
            yield where, expression.tree


def _form_fields(node: Node, forms: Forms) -> Mapping[str, Any] | None:
    """The fields of a node's form by name, or None when they cannot be known (no form, a computed one)."""
    form_id = node.data.get("form") if isinstance(node.data, Mapping) else None
    if not isinstance(form_id, str) or has_expression(form_id) or form_id not in forms:
        return None
    schema = forms.get(form_id).schema
    if schema.get("patternProperties"):
        return None
    properties = schema.get("properties")
    return properties if isinstance(properties, Mapping) else None


def _data_fields(definition: WorkflowDefinition, start_fields: Mapping[str, Any] | None) -> set[str] | None:
    """Every field the request's data can have: the start form's, and what steps write into it."""
    if start_fields is None:
        return None
    written = set(start_fields)
    for node in definition.nodes:
        data = node.data if isinstance(node.data, Mapping) else {}
        written |= set(field_map(data.get("writeBack")).values())
        if data.get("into") == "data" and isinstance(data.get("values"), Mapping):
            written |= set(data["values"])
        if isinstance(data.get("output"), Mapping) and "process" in data:
            written |= set(data["output"])
    return written


class _Ancestors:
    """For a node, the nodes that can have run before it (those with a path to it), found when first asked."""

    def __init__(self, definition: WorkflowDefinition) -> None:
        self._predecessors: dict[str, set[str]] = {}
        for edge in definition.edges:
            self._predecessors.setdefault(edge.target, set()).add(edge.source)
        self._found: dict[str, set[str]] = {}

    def get(self, node_id: str, default: set[str]) -> set[str]:
        found = self._found.get(node_id)
        if found is None:
            found = set()
            queue = deque(self._predecessors.get(node_id, ()))
            while queue:
                other = queue.popleft()
                if other not in found:
                    found.add(other)
                    queue.extend(self._predecessors.get(other, ()))
            self._found[node_id] = found
        return found or default


def readable_at(definition: WorkflowDefinition, node_types: Mapping[str, NodeDefinition], forms: Forms,
                node_id: str) -> list[str]:
    """What an expression at ``node_id`` can read, for the designer's completion: the request's data fields,
    and the form fields and outcomes of the steps that can have run before it (the same rules as the checks)."""
    roles = {node.id: role_of(node_types.get(node.type)) for node in definition.nodes}
    start = next((node for node in definition.nodes if roles[node.id] == NodeRole.START), None)
    start_fields = _form_fields(start, forms) if start is not None else None
    found = [f"data.{name}" for name in sorted(_data_fields(definition, start_fields) or ())]
    before = _Ancestors(definition).get(node_id, set())
    for node in definition.nodes:
        if node.id not in before:
            continue
        form_fields = _form_fields(node, forms) or {}
        if roles[node.id] == NodeRole.START:
            found += [f"nodes.{node.id}.last.data.{name}" for name in form_fields]
        elif roles[node.id] == NodeRole.HUMAN_TASK:
            found += [f"nodes.{node.id}.last.data.outcome", f"nodes.{node.id}.last.data.completedBy"]
            found += [f"nodes.{node.id}.last.data.data.{name}" for name in form_fields]
        else:
            found.append(f"nodes.{node.id}.output")
    return found
