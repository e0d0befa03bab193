"""A node's properties panel, generated from its type's registry entry: which field each data key gets, and
the posted form read back into node data.

The kinds follow the input schema: text (expressions allowed), a pick of a
person, group, form, calendar or process (``x-picks``), a list of names, a
number, yes/no, a choice, rows of a list of small objects (escalations,
decision rules) and, for anything else, JSON. A plug-in type's schema gets
the same panel; nothing here names a built-in type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bpm.nodes.about import about_of

EXTRA_ROWS = 1
"""Empty rows offered below a list of rows, to add one without a script."""


@dataclass(frozen=True)
class PropertyField:
    """One data key as the panel shows it."""

    key: str
    kind: str  # text | pick | list | number | integer | yesno | choice | rows | json
    label: str
    help: str
    required: bool
    value: str = ""  # what the input holds
    picks: str | None = None
    choices: tuple[str, ...] = ()
    columns: tuple[PropertyField, ...] = ()  # rows: the fields of one row
    rows: tuple[tuple[PropertyField, ...], ...] = ()  # rows: each row's fields, with their values


@dataclass(frozen=True)
class Panel:
    """The fields of one node's panel; ``errors`` from a post that could not be read, by input name."""

    node_id: str
    type: str
    type_label: str
    label: str
    fields: tuple[PropertyField, ...]
    errors: Mapping[str, list[str]] = field(default_factory=dict)


def panel(node: Mapping[str, Any], node_type: Any) -> Panel:
    """The panel of ``node`` (its current data filled in)."""
    schema = (node_type.input_schema if node_type is not None else None) or {}
    about = about_of(node_type)
    data = node.get("data") if isinstance(node.get("data"), Mapping) else {}
    metadata = node.get("metadata") if isinstance(node.get("metadata"), Mapping) else {}
    label = metadata.get("label") if isinstance(metadata.get("label"), str) else str(node.get("id"))
    required = set(schema.get("required") or ())
    helps = about.fields if about is not None else {}
    fields = tuple(_field(key, spec, key in required, helps.get(key, ""), data.get(key))
                   for key, spec in (schema.get("properties") or {}).items() if isinstance(spec, Mapping))
    type_label = about.label if about is not None else str(node.get("type"))
    return Panel(str(node.get("id")), str(node.get("type")), type_label, label, fields)


def kind_of(spec: Mapping[str, Any]) -> str:
    """The kind of input a schema property gets (an untyped one, such as a rule's condition, takes text: an
    expression)."""
    if not set(spec) - {"title", "description", "x-picks"}:
        return "text"
    kind = spec.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if "enum" in spec and all(isinstance(v, str) for v in spec["enum"]):
        return "choice"
    if kind == "string":
        return "pick" if isinstance(spec.get("x-picks"), str) else "text"
    if kind in ("number", "integer"):
        return str(kind)
    if kind == "boolean":
        return "yesno"
    if kind == "array":
        items = spec.get("items") if isinstance(spec.get("items"), Mapping) else {}
        if items.get("type") == "string":
            return "list"
        if items.get("type") == "object" and all(kind_of(s) in _CELL_KINDS for s in
                                                 (items.get("properties") or {}).values() if isinstance(s, Mapping)):
            return "rows"
    return "json"


_CELL_KINDS = ("text", "pick", "number", "integer", "yesno", "choice", "list")


def _field(key: str, spec: Mapping[str, Any], required: bool, help_text: str, value: Any) -> PropertyField:
    kind = kind_of(spec)
    words = _words(key)
    if kind == "rows":
        items = spec["items"]
        inner_required = set(items.get("required") or ())
        columns = tuple(_field(inner, s, inner in inner_required, "", None)
                        for inner, s in (items.get("properties") or {}).items())
        given = [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
        rows = tuple(tuple(_field(c.key, items["properties"][c.key], c.required, "", row.get(c.key))
                           for c in columns) for row in [*given, *({} for _ in range(EXTRA_ROWS))])
        return PropertyField(key, kind, words, help_text, required, columns=columns, rows=rows)
    picks = spec.get("x-picks") if isinstance(spec.get("x-picks"), str) else None
    if kind == "list" and picks is None:
        items = spec.get("items") if isinstance(spec.get("items"), Mapping) else {}
        picks = items.get("x-picks") if isinstance(items.get("x-picks"), str) else None
    choices = tuple(str(v) for v in spec.get("enum", ())) if kind == "choice" else ()
    return PropertyField(key, kind, words, help_text, required, _shown(kind, value), picks, choices)


def _words(key: str) -> str:
    """``candidateGroups`` → "Candidate groups"."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in key).strip()
    return spaced[:1].upper() + spaced[1:]


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "list" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if kind == "yesno" and isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def read_form(fields: tuple[PropertyField, ...], form: Mapping[str, str],
              prefix: str = "data.") -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The node data a posted panel says, and the inputs that could not be read (by input name)."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for one in fields:
        name = prefix + one.key
        if one.kind == "rows":
            rows = []
            for i in range(len(one.rows) + 5):  # a page may have added rows
                if form.get(f"{name}.{i}.remove") == "yes":
                    continue
                row, row_errors = read_form(one.columns, form, f"{name}.{i}.")
                errors.update(row_errors)
                if row:
                    rows.append(row)
            if rows:
                data[one.key] = rows
            continue
        raw = (form.get(name) or "").strip()
        if raw == "":
            continue
        try:
            data[one.key] = _parsed(one, raw)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    return data, errors


def _parsed(one: PropertyField, raw: str) -> Any:
    if one.kind == "list":
        return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
    if one.kind in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{one.label}: a number, such as 5000") from None
        if one.kind == "integer":
            if not number.is_integer():
                raise ValueError(f"{one.label}: a whole number")
            return int(number)
        return int(number) if number.is_integer() else number
    if one.kind == "yesno":
        if raw not in ("yes", "no"):
            raise ValueError(f"{one.label}: yes or no")
        return raw == "yes"
    if one.kind == "choice":
        if raw not in one.choices:
            raise ValueError(f"{one.label}: one of {', '.join(one.choices)}")
        return raw
    if one.kind == "json":
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{one.label}: not JSON ({exc})") from None
    return raw
