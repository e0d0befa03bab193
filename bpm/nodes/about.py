"""What a person needs to know of a node type, said once in its registry entry (``metadata["about"]``).

The designer's palette and properties panel, the checks of a definition and the
node reference (``/designer/nodes``, ``docs/nodes.md``) all read this, so a
plug-in type that brings its own ``About`` appears everywhere a built-in does.

A data field that names something the service knows says so in the type's
input schema with ``"x-picks"`` (see ``PICKS``): the properties panel offers a
picker for it and the checks look the name up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bpm.engine import NodeDefinition
from bpm.engine.expressions.template import iter_expressions

Exits = tuple[str | None, ...]
"""The handles a node can leave by; None is the default exit (an edge with no ``sourceHandle``)."""

PICKS = ("user", "users", "group", "groups", "approvers", "form", "calendar", "process", "nodes")
"""What an ``x-picks`` field names: one person, several, one group, several, voters (people or
``group:<name>``), a form, a calendar, a published process, other nodes of the same process."""


PICK_WORDS = {"user": "a person", "users": "people", "group": "a group", "groups": "groups",
              "approvers": "people or groups", "form": "a form", "calendar": "a calendar", "process": "a process",
              "nodes": "other steps"}
"""What an ``x-picks`` field names, as the reference and the properties panel say it."""


def one_exit(data: Mapping[str, Any]) -> Exits:
    """Most steps go on by their one default exit."""
    return (None,)


@dataclass(frozen=True)
class About:
    """A node type as people see it.

    ``exits(data)`` gives the handles a node with this (static) data can leave
    by, or None when only a run can tell (they come from an expression, or the
    node takes every edge at once).
    """

    label: str
    summary: str
    exits_text: str
    example: Mapping[str, Any]
    group: str = "Steps"
    exits: Callable[[Mapping[str, Any]], Exits | None] = one_exit
    fields: Mapping[str, str] = field(default_factory=dict)  # data key -> what it is for, as a person reads it
    notes: tuple[str, ...] = field(default=())

    def exits_of(self, data: Any) -> Exits | None:
        """The exits of a node with ``data``; None when they are not known before it runs."""
        if not isinstance(data, Mapping) or next(iter_expressions(_routing(data)), None) is not None:
            return None
        try:
            return self.exits(data)
        except (TypeError, AttributeError, KeyError):
            return None  # malformed data: the schema check reports it


def _routing(data: Mapping[str, Any]) -> Any:
    """The parts of a node's data that name its exits (a title or a rule's condition may hold expressions)."""
    handles = [item.get("handle") for key in ("rules", "escalations")
               for item in (data.get(key) if isinstance(data.get(key), list) else ()) if isinstance(item, Mapping)]
    return [data.get("outcomes"), data.get("default"), handles]


def about_of(node_type: NodeDefinition | None) -> About | None:
    """The ``About`` of a registry entry, if it has one."""
    about = (node_type.metadata or {}).get("about") if node_type is not None else None
    return about if isinstance(about, About) else None


def picks_of(schema: Mapping[str, Any] | None) -> dict[str, str]:
    """``{dotted path: what it picks}`` for the ``x-picks`` fields of a node type's input schema.

    A path is a data key (``assignee``) or a key of the items of a list of
    objects (``escalations[].to``).
    """
    found: dict[str, str] = {}
    for key, spec in ((schema or {}).get("properties") or {}).items():
        if not isinstance(spec, Mapping):
            continue
        if isinstance(spec.get("x-picks"), str):
            found[key] = spec["x-picks"]
        items = spec.get("items")
        if isinstance(items, Mapping) and items.get("type") == "object":
            found.update({f"{key}[].{inner}": picks for inner, picks in picks_of(items).items()})
    return found
