"""The people and groups a process names, held against the directory: ``davee`` who is not a user, a group
nobody is in, a task that only the requester could act on and four-eyes bars.

Which data fields name people is said by each node type's input schema
(``x-picks``, ``bpm.nodes.about``), so a plug-in type is checked the same way.
A name written as it is and unknown is an error; one that an expression may
give is a warning (the run decides), and with single sign-on every unknown
user is a warning, since signing in adds them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from bpm.engine import NodeDefinition, NodeRole, Problem, WorkflowDefinition
from bpm.engine.definition import Node
from bpm.engine.errors import ExpressionError
from bpm.engine.expressions.reads import string_literals
from bpm.engine.expressions.template import compile_template, has_expression
from bpm.engine.roles import role_of
from bpm.nodes.about import picks_of
from bpm.runtime.access import four_eyes_at
from bpm.runtime.flow_checks import node_name
from bpm.store.uow import UnitOfWork

PEOPLE = {"user": "user", "users": "user", "group": "group", "groups": "group", "approvers": "approver"}
GROUP_VOTER = "group:"


class Named(NamedTuple):
    """A person or group a node names, where, and whether it is written as it is (not computed)."""

    path: str
    kind: str  # user | group
    name: str
    written: bool
    field: str  # the data key: assignee, candidateGroups, escalations[].to…


def people_problems(definition: WorkflowDefinition, node_types: Mapping[str, NodeDefinition], uow: UnitOfWork,
                    sso: bool) -> list[Problem]:
    """Unknown people and groups, and tasks whose only candidate four-eyes bars."""
    picks = {name: picks_of(node_type.input_schema) for name, node_type in node_types.items()}
    named = [(node, one) for i, node in enumerate(definition.nodes)
             for one in _named(node, f"$.nodes[{i}].data", picks.get(node.type, {}))]
    users = {one.name for _, one in named if one.kind == "user"}
    groups = {one.name for _, one in named if one.kind == "group"}
    known_users = {user.username for user in uow.people.users(users, active_only=True)}
    known_groups = uow.people.groups_among(groups)
    empty = (users or groups) and not (known_users or known_groups) and not uow.people.anyone()
    found = []
    for node, one in named:
        known = known_users if one.kind == "user" else known_groups
        if one.name in known:
            continue
        what = "an active user" if one.kind == "user" else "a group"
        said = f"{node_name(node)} {_role_of_field(one.field)} '{one.name}', who is not {what}" if one.kind == "user" \
            else f"{node_name(node)} {_role_of_field(one.field)} group '{one.name}', which is not {what}"
        if not one.written:
            found.append(Problem(one.path, f"{said}: the expression may give this name, and then the task would "
                                           "wait for nobody", "warning"))
        elif empty:
            found.append(Problem(one.path, f"{said} yet: nobody is in the directory; add the people before the "
                                           "first request starts", "warning"))
        elif sso and one.kind == "user":
            found.append(Problem(one.path, f"{said} yet: with single sign-on they are added when they first sign "
                                           "in; until then the task waits for nobody", "warning"))
        else:
            found.append(Problem(one.path, said))
    found.extend(_four_eyes_problems(definition, node_types, uow))
    return found


def _role_of_field(field: str) -> str:
    return {"assignee": "is assigned to", "candidateUsers": "is offered to", "candidateGroups": "is offered to",
            "approvers": "is put to a vote of", "escalations[].to": "escalates to"}.get(field, "names")


def _named(node: Node, path: str, picks_by_key: Mapping[str, str]) -> Iterator[Named]:
    data = node.data if isinstance(node.data, Mapping) else {}
    for key, picks in picks_by_key.items():
        kind = PEOPLE.get(picks)
        if kind is None:
            continue
        outer, _, inner = key.partition("[].")
        for where, value in _values(data, outer, inner, f"{path}.{outer}"):
            for name, written in _names(value):
                if kind == "approver":
                    is_group = name.startswith(GROUP_VOTER)
                    yield Named(where, "group" if is_group else "user",
                                name[len(GROUP_VOTER):] if is_group else name, written, key)
                else:
                    yield Named(where, kind, name, written, key)


def _values(data: Mapping[str, Any], outer: str, inner: str, path: str) -> Iterator[tuple[str, Any]]:
    """The value(s) at ``outer`` (or at ``inner`` of each item of the list at ``outer``), with their paths."""
    value = data.get(outer)
    if not inner:
        if isinstance(value, list):
            yield from ((f"{path}[{j}]", item) for j, item in enumerate(value))
        elif value is not None:
            yield path, value
        return
    for j, item in enumerate(value if isinstance(value, list) else ()):
        if isinstance(item, Mapping) and item.get(inner) is not None:
            yield f"{path}[{j}].{inner}", item[inner]


def _names(value: Any) -> Iterator[tuple[str, bool]]:
    """The names a value gives: itself when written as it is, else the quoted names in its expressions."""
    if not isinstance(value, str) or not value:
        return
    if not has_expression(value):
        yield value, True
        return
    try:
        compiled = compile_template(value)
    except ExpressionError:
        return  # reported by the engine's checks
    for expression in compiled.expressions:
        for literal in string_literals(expression.tree):
            if literal and " " not in literal and len(literal) <= 100:
                yield literal, False


def _four_eyes_problems(definition: WorkflowDefinition, node_types: Mapping[str, NodeDefinition],
                        uow: UnitOfWork) -> list[Problem]:
    """A task offered only to groups whose one member may also start the request: four-eyes bars them from
    their own request, so it would wait at that task forever (the editors' group of one)."""
    startable = definition.extra.get("startableBy")
    startable = startable if isinstance(startable, Mapping) else None
    candidates_of = {}
    for i, node in enumerate(definition.nodes):
        if role_of(node_types.get(node.type)) != NodeRole.HUMAN_TASK or not isinstance(node.data, Mapping):
            continue
        data = node.data
        if data.get("approvers") or not four_eyes_at(definition.extra, data):
            continue
        if data.get("assignee") or data.get("candidateUsers") or not data.get("candidateGroups"):
            continue  # a person named as it is shows who acts; a computed one is known only at run time
        if any(not isinstance(v, str) or has_expression(v) for v in data["candidateGroups"]):
            continue
        candidates_of[node.id] = (i, node)
    groups = {g for _, node in candidates_of.values() for g in node.data.get("candidateGroups") or ()}
    members = uow.people.active_members(groups)
    found = []
    for i, node in candidates_of.values():
        data = node.data
        people: set[str] = set()
        for group in data["candidateGroups"]:
            people |= members.get(group, frozenset())
        if len(people) != 1:
            continue
        (person,) = people
        if startable is not None and person not in startable.get("users", ()) and \
                uow.people.groups_of(person).isdisjoint(startable.get("groups", ())):
            continue  # they cannot start it, so never bar themselves
        found.append(Problem(f"$.nodes[{i}].data", (
            f"only {person} can act on {node_name(node)}, and four-eyes bars them from a request they started "
            f"themselves: such a request would wait there forever; offer the task to someone else too, or say "
            "fourEyes: false if that is meant"), "warning"))
    return found
