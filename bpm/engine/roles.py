"""What part a node type plays in a run, as its registry entry says (``metadata["role"]``).

The engine and validation ask a node's role, never its type's name: a
plug-in type that says ``"role": "start"`` starts a process like the
built-in ``start``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bpm.engine.definition import Node
    from bpm.engine.node import NodeDefinition


class NodeRole(StrEnum):
    START = "start"  # where a run begins; its output is the request's data
    END = "end"
    HUMAN_TASK = "human-task"  # pauses for a person
    TIMER = "timer"  # pauses for a time
    FORK = "fork"  # starts parallel branches
    JOIN = "join"  # waits for them
    CALL = "call"  # runs another process and waits for it


def role_of(node_type: NodeDefinition | None) -> NodeRole | None:
    """The role a node type's registry entry gives it (None: an ordinary step, or an unknown type)."""
    role = (node_type.metadata or {}).get("role") if node_type is not None else None
    return NodeRole(role) if role in NodeRole._value2member_map_ else None


def nodes_with_role(nodes: Iterable[Node], node_types: Mapping[str, NodeDefinition], role: NodeRole) -> list[Node]:
    """The nodes whose type plays ``role``, in definition order."""
    return [node for node in nodes if role_of(node_types.get(node.type)) == role]
