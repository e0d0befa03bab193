"""The node types as the designer's palette and the reference describe them, read from the registry alone.

``docs/nodes.md`` is this, written out (``bpm docs nodes``); a test keeps it current.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bpm.engine import NodeDefinition
from bpm.engine.roles import role_of
from bpm.nodes.about import PICK_WORDS, About, about_of, picks_of

GROUPS = ("Start and end", "People", "Flow", "Time", "Messages", "Steps")
"""The palette's sections, in order (a plug-in type's group that is not here comes last)."""


@dataclass(frozen=True)
class DataField:
    """One key of a node type's data: its JSON Schema type, whether it must be given, what it picks, its help."""

    name: str
    type: str
    required: bool
    picks: str | None
    help: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeTypeEntry:
    """A node type for people: its name in definitions, its ``About``, its data fields, an example node."""

    name: str
    about: About
    role: str | None
    fields: tuple[DataField, ...]
    schema: Mapping[str, Any] | None

    @property
    def example_exits(self) -> list[str]:
        exits = self.about.exits_of(self.about.example)
        if exits is None:
            return []
        return ["(default)" if handle is None else handle for handle in exits]

    @property
    def example_json(self) -> str:
        return json.dumps({"id": "example", "type": self.name, "data": self.about.example}, indent=2,
                          ensure_ascii=False)


def entries(node_types: Mapping[str, NodeDefinition]) -> list[NodeTypeEntry]:
    """Every registered type that describes itself, in palette order (group, then as registered)."""
    found = []
    for name, node_type in node_types.items():
        about = about_of(node_type)
        if about is None:
            continue
        schema = node_type.input_schema
        found.append(NodeTypeEntry(name, about, role_of(node_type), _fields(schema, about), schema))
    order = {group: i for i, group in enumerate(GROUPS)}
    return sorted(found, key=lambda entry: order.get(entry.about.group, len(GROUPS)))


def _fields(schema: Mapping[str, Any] | None, about: About) -> tuple[DataField, ...]:
    properties = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or ())
    picks = picks_of(schema)
    return tuple(DataField(key, _type_of(spec), key in required, picks.get(key), about.fields.get(key, ""),
                           tuple(str(v) for v in spec.get("enum", ())) if isinstance(spec, Mapping) else ())
                 for key, spec in properties.items())


def _type_of(spec: Any) -> str:
    """A JSON Schema type as a person reads it (text, number, yes/no, list, object, one of…)."""
    if not isinstance(spec, Mapping):
        return "any"
    if "enum" in spec:
        return "one of"
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "any")
    if kind is None and ("oneOf" in spec or "anyOf" in spec):
        return "varies"
    return {"string": "text", "integer": "whole number", "number": "number", "boolean": "yes/no",
            "array": "list", "object": "object"}.get(kind or "", "any")


def markdown(node_types: Mapping[str, NodeDefinition]) -> str:
    """The reference as Markdown (``docs/nodes.md``)."""
    lines = ["# Node types", "",
             "Generated from the node registry by `bpm docs nodes` (a test checks it is current): what the "
             "designer's palette, properties panel and checks read. Each node is `{id, type, data, metadata}`; "
             "`data` holds the fields below.", ""]
    for entry in entries(node_types):
        about = entry.about
        lines += [f"## {about.label} (`{entry.name}`)", "", about.summary, "", f"**Exits.** {about.exits_text}", ""]
        lines += ["| Field | Type | Required | What it is for |", "|---|---|---|---|"]
        for f in entry.fields:
            kind = f.type + (f" ({', '.join(f.choices)})" if f.choices else "") + (f": names {PICK_WORDS[f.picks]}"
                                                                                   if f.picks else "")
            lines.append(f"| `{f.name}` | {kind} | {'yes' if f.required else ''} | {f.help} |")
        lines += ["", "Example:", "", "```json", entry.example_json, "```", ""]
        lines += [f"> {note}" for note in about.notes] + ([""] if about.notes else [])
    return "\n".join(lines).rstrip() + "\n"
