"""The form designer's vocabulary: a form as a list of fields of the kinds people name (text, long text, number,
money, date, date range, yes/no, choice, person, group) and its rules, turned into the form document (JSON
Schema + ui + rules) that validation and the renderer read — and back, so any stored form opens in the designer.

What the designer has no kind for (a table, a nested group) is kept as it is, as JSON, so opening and saving
a form never loses a field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

KINDS = {"text": "Text", "long-text": "Long text", "number": "Number", "money": "Money", "date": "Date",
         "date-range": "Date range", "yes-no": "Yes / no", "choice": "Choice from a list", "person": "Person",
         "group": "Group", "file": "File", "requester": "The person filling it in", "json": "Other (JSON Schema)"}
"""The kinds of field, by the name the designer shows."""
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "BRL")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")
COMPARISONS = {"atLeast": "not before / at least", "atMost": "not after / at most", "above": "after / above",
               "below": "before / below"}
LIMIT_KEYWORDS = ("minimum", "exclusiveMinimum", "maximum", "minLength", "maxLength", "pattern", "formatMinimum",
                  "formatMaximum")
MAX_FIELDS = 100
EDITED = frozenset({"type", "title", "description", "minimum", "exclusiveMinimum", "maximum", "minLength",
                    "maxLength", "pattern", "x-messages", "format", "formatMinimum", "formatMaximum", "enum",
                    "x-picks", "x-bpm-file"})
"""The keys of a property the designer's inputs say; any other key of it is kept as it was."""
EDITED_BY_REQUESTER = frozenset({"type", "title", "description"})


@dataclass(frozen=True)
class FieldSpec:
    """One field as the designer edits it."""

    name: str
    kind: str
    label: str = ""
    help: str = ""
    required: bool = False
    minimum: str = ""  # numbers and dates, as typed
    maximum: str = ""
    min_length: str = ""
    max_length: str = ""
    pattern: str = ""
    message: str = ""  # what a person reads when a limit or the pattern is broken
    choices: tuple[str, ...] = ()
    raw: str = ""  # kind json: the property's JSON Schema
    pair: tuple[str, ...] = ()  # money: its currency field; a date range: its two date fields
    keep: str = ""  # JSON of the property's keys the designer does not edit, kept as they were


@dataclass(frozen=True)
class RuleSpec:
    """A rule across fields: ``field`` compared with another field, 'today' or a value; or, with ``outcome``,
    the fields that outcome requires."""

    field: str = ""
    op: str = "atLeast"
    other: str = ""  # a field name, 'today' or a value
    message: str = ""
    outcome: str = ""
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormSpec:
    """A form as the designer edits it."""

    form_id: str
    title: str
    fields: tuple[FieldSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    extra_ui: Mapping[str, Any] = field(default_factory=dict)  # ui keys the designer does not edit, kept


# Document → spec ------------------------------------------------------------------------------------------------

def spec_of(document: Mapping[str, Any]) -> FormSpec:
    """A stored form as the designer shows it."""
    schema = document.get("schema") or {}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    ui = document.get("ui") or {}
    widgets, money = ui.get("widgets") or {}, ui.get("money") or {}
    ranges = {start: (name, end) for name, (start, end) in (ui.get("ranges") or {}).items()}
    order = [n for n in ui.get("order") or () if n in properties] + [n for n in properties if n not in
                                                                       (ui.get("order") or ())]
    taken = set(money.values()) | {end for _, end in ranges.values()}
    fields = []
    for name in order:
        if name in taken:
            continue
        spec = properties[name] if isinstance(properties[name], Mapping) else {}
        if name in ranges:
            range_name, end = ranges[name]
            one = _common(range_name, "date-range", spec, name in required)
            fields.append(replace(one, label=one.label.removesuffix(": from"), pair=(name, end)))
            continue
        one = _field_of(name, spec, name in required, widgets.get(name), name in money,
                        properties.get(money.get(name), {}))
        if one.kind == "money":
            one = replace(one, pair=(money[name],))
        fields.append(_kept(one, spec))
    range_rules = {(end, start) for start, (_, end) in ranges.items()}
    rules = tuple(_rule_of(rule) for rule in document.get("rules") or ()
                  if not (isinstance(rule, Mapping) and isinstance(rule.get("atLeast"), Mapping)
                          and (rule.get("field"), rule["atLeast"].get("field")) in range_rules))
    kept = {k: v for k, v in ui.items() if k not in ("order", "widgets", "money", "ranges")}
    return FormSpec(str(document.get("id", "")), str(document.get("title", "")), tuple(fields), rules, kept)


def _kept(one: FieldSpec, spec: Mapping[str, Any]) -> FieldSpec:
    """The field with the keys of its property that its kind does not edit (so saving loses nothing)."""
    if one.kind == "json":
        return one
    edited = EDITED_BY_REQUESTER if one.kind == "requester" else EDITED
    kept = {k: v for k, v in spec.items() if k not in edited}
    return replace(one, keep=json.dumps(kept, ensure_ascii=False, sort_keys=True)) if kept else one


def _common(name: str, kind: str, spec: Mapping[str, Any], required: bool) -> FieldSpec:
    messages = spec.get("x-messages") if isinstance(spec.get("x-messages"), Mapping) else {}
    return FieldSpec(name, kind, str(spec.get("title") or ""), str(spec.get("description") or ""), required,
                     message=str(next(iter(messages.values()), "")))


def _field_of(name: str, spec: Mapping[str, Any], required: bool, widget: Any, is_money: bool,
              currency: Mapping[str, Any]) -> FieldSpec:
    base = _common(name, "text", spec, required)
    kind = spec.get("type")
    if is_money:
        return replace(base, kind="money", minimum=_lower_bound(spec), maximum=_text(spec.get("maximum")),
                       choices=tuple(currency.get("enum") or CURRENCIES))
    if widget == "current-user" or spec.get("x-bpm-actor") is True:
        return replace(base, kind="requester")
    if spec.get("x-bpm-file") is True:
        return replace(base, kind="file")
    if kind == "string" and isinstance(spec.get("enum"), list):
        return replace(base, kind="choice", choices=tuple(str(v) for v in spec["enum"]))
    if kind == "string" and spec.get("format") == "date":
        return replace(base, kind="date", minimum=_text(spec.get("formatMinimum")),
                       maximum=_text(spec.get("formatMaximum")))
    if kind == "string" and spec.get("x-picks") in ("user", "group"):
        return replace(base, kind="person" if spec["x-picks"] == "user" else "group")
    if kind == "string" and not set(spec) - {"type", "title", "description", "minLength", "maxLength", "pattern",
                                             "x-messages"}:
        return replace(base, kind="long-text" if widget == "textarea" else "text",
                       min_length=_text(spec.get("minLength")), max_length=_text(spec.get("maxLength")),
                       pattern=str(spec.get("pattern") or ""))
    if kind in ("number", "integer") and not set(spec) - {"type", "title", "description", "minimum", "maximum",
                                                          "exclusiveMinimum", "x-messages"}:
        return replace(base, kind="number", minimum=_lower_bound(spec), maximum=_text(spec.get("maximum")))
    if kind == "boolean":
        return replace(base, kind="yes-no")
    return replace(base, kind="json", raw=json.dumps(dict(spec), ensure_ascii=False, indent=1))


def _lower_bound(spec: Mapping[str, Any]) -> str:
    """A number's lower limit as the designer writes it: "0", or "> 0" for more than 0."""
    if "exclusiveMinimum" in spec:
        return f"> {spec['exclusiveMinimum']}"
    return _text(spec.get("minimum"))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _rule_of(rule: Any) -> RuleSpec:
    if not isinstance(rule, Mapping):
        return RuleSpec()
    if "field" in rule:
        op = next((o for o in COMPARISONS if o in rule), "atLeast")
        other = rule.get(op)
        shown = other.get("field") if isinstance(other, Mapping) else other
        return RuleSpec(str(rule["field"]), op, _text(shown), str(rule.get("message") or ""))
    condition = rule.get("if") if isinstance(rule.get("if"), Mapping) else {}
    return RuleSpec(outcome=str(condition.get("outcome", "")), requires=tuple(map(str, rule.get("require") or ())))


# Spec → document --------------------------------------------------------------------------------------------------

def document_of(spec: FormSpec) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form document a spec describes, and what in the spec cannot be made one (by input name)."""
    errors: dict[str, list[str]] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    ui: dict[str, Any] = {**spec.extra_ui, "order": []}
    rules: list[dict[str, Any]] = []
    for i, one in enumerate(spec.fields):
        where = f"field.{i}"
        if not NAME.match(one.name):
            errors.setdefault(f"{where}.name", []).append(
                "a name of letters, digits and _, starting with a letter (it is how steps read the field)")
            continue
        made = _properties_of(one, where, errors)
        for name, prop in made.items():
            if name in properties:
                errors.setdefault(f"{where}.name", []).append(f"'{name}' is used twice")
            properties[name] = prop
            ui["order"].append(name)
        if one.required:
            required.extend(made)
        rules.extend(_shown_as(one, list(made), ui))
    for j, rule in enumerate(spec.rules):
        made_rule = _rule_document(rule, f"rule.{j}", set(properties), errors)
        if made_rule is not None:
            rules.append(made_rule)
    document = {"id": spec.form_id, "title": spec.title,
                "schema": {"type": "object", "properties": properties, "additionalProperties": False,
                           **({"required": required} if required else {})},
                "rules": rules, "ui": ui}
    return document, errors


def _shown_as(one: FieldSpec, names: list[str], ui: dict[str, Any]) -> list[dict[str, Any]]:
    """How the renderer shows a field (``ui``), and the rule a date range brings."""
    if one.kind == "long-text":
        ui.setdefault("widgets", {})[one.name] = "textarea"
    elif one.kind == "requester":
        ui.setdefault("widgets", {})[one.name] = "current-user"
    elif one.kind == "money":
        ui.setdefault("money", {})[one.name] = _currency_of(one)
    elif one.kind == "date-range" and len(names) == 2:
        start, end = names
        ui.setdefault("ranges", {})[one.name] = [start, end]
        return [{"field": end, "atLeast": {"field": start},
                 "message": one.message or f"{one.label or one.name}: the end is not before the start"}]
    return []


def _properties_of(one: FieldSpec, where: str, errors: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """The schema properties one field is made of (a money field and a date range are two)."""
    make = _MAKERS.get(one.kind)
    if make is None:
        errors.setdefault(f"{where}.kind", []).append(f"one of: {', '.join(KINDS)}")
        return {}
    base: dict[str, Any] = {"title": one.label or one.name}
    if one.help:
        base["description"] = one.help
    made = make(one, base, where, errors)
    if one.keep and one.name in made:
        try:
            kept = json.loads(one.keep)
        except ValueError:
            kept = {}
        made[one.name] = {**(kept if isinstance(kept, dict) else {}), **made[one.name]}
    return made


Errors = dict[str, list[str]]


def _text_field(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    prop = {"type": "string", **base, **_limits(one, where, errors, ("min_length", "minLength"),
                                                 ("max_length", "maxLength"))}
    if one.pattern:
        if not _compiles(one.pattern):
            errors.setdefault(f"{where}.pattern", []).append("not a pattern (a regular expression)")
        prop["pattern"] = one.pattern
    return {one.name: _with_messages(prop, one)}


def _number_field(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    prop = {"type": "number", **base, **_limits(one, where, errors, ("minimum", "minimum"), ("maximum", "maximum"),
                                                 number=True)}
    found = {one.name: _with_messages(prop, one)}
    if one.kind == "money":
        found[_currency_of(one)] = {"type": "string", "title": "Currency", "enum": list(one.choices or CURRENCIES)}
    return found


def _currency_of(one: FieldSpec) -> str:
    return one.pair[0] if one.pair else f"{one.name}Currency"


def _date_field(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    return {one.name: _with_messages({"type": "string", "format": "date", **base}, one)}


def _date_range(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    label = one.label or one.name
    start, end = one.pair if len(one.pair) == 2 else (f"{one.name}Start", f"{one.name}End")
    return {start: {"type": "string", "format": "date", "title": f"{label}: from"},
            end: {"type": "string", "format": "date", "title": f"{label}: to"}}


def _yes_no(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    return {one.name: {"type": "boolean", **base}}


def _choice(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    if not one.choices:
        errors.setdefault(f"{where}.choices", []).append("give the choices, separated by commas")
    return {one.name: {"type": "string", "enum": list(one.choices), **base}}


def _pick(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    return {one.name: {"type": "string", "minLength": 1, "maxLength": 100,
                       "x-picks": "user" if one.kind == "person" else "group", **base}}


def _file(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    return {one.name: {"type": "string", "x-bpm-file": True, **base}}


def _requester(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    return {one.name: {"type": "string", **base}}


def _raw(one: FieldSpec, base: dict[str, Any], where: str, errors: Errors) -> dict[str, dict[str, Any]]:
    try:
        raw = json.loads(one.raw or "{}")
    except ValueError as exc:
        errors.setdefault(f"{where}.raw", []).append(f"not JSON: {exc}")
        raw = {}
    return {one.name: raw if isinstance(raw, dict) else {}}


_MAKERS = {"text": _text_field, "long-text": _text_field, "number": _number_field, "money": _number_field,
           "date": _date_field, "date-range": _date_range, "yes-no": _yes_no, "choice": _choice, "person": _pick,
           "group": _pick, "file": _file, "requester": _requester, "json": _raw}


def _limits(one: FieldSpec, where: str, errors: dict[str, list[str]], *pairs: tuple[str, str],
            number: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for attribute, keyword in pairs:
        text = getattr(one, attribute).strip()
        if not text:
            continue
        if number and keyword == "minimum" and text.startswith(">"):
            text, keyword = text[1:].strip(), "exclusiveMinimum"
        try:
            value = float(text) if number else int(text)
        except ValueError:
            errors.setdefault(f"{where}.{attribute}", []).append("a number" if number else "a whole number")
            continue
        found[keyword] = int(value) if isinstance(value, float) and value.is_integer() else value
    return found


def _with_messages(prop: dict[str, Any], one: FieldSpec) -> dict[str, Any]:
    """The field's message for each limit it has, as validation reads it (``x-messages``)."""
    limits = [k for k in LIMIT_KEYWORDS if k in prop]
    if one.message and limits:
        prop["x-messages"] = dict.fromkeys(limits, one.message)
    return prop


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _rule_document(rule: RuleSpec, where: str, known: set[str], errors: dict[str, list[str]]
                   ) -> dict[str, Any] | None:
    if rule.outcome or rule.requires:
        unknown = [n for n in rule.requires if n not in known]
        if unknown or not rule.outcome:
            errors.setdefault(f"{where}.requires", []).append(
                f"an outcome and the fields it requires ({', '.join(sorted(known))})")
            return None
        return {"if": {"outcome": rule.outcome}, "require": list(rule.requires)}
    if not rule.field:
        return None  # an empty row
    if rule.field not in known:
        errors.setdefault(f"{where}.field", []).append(f"'{rule.field}' is not a field of the form")
        return None
    if not rule.message.strip():
        errors.setdefault(f"{where}.message", []).append("the message a person reads when the rule is broken")
        return None
    other: Any = rule.other.strip()
    if other in known:
        other = {"field": other}
    elif other != "today":
        try:
            other = float(other) if "." in other else int(other)
        except ValueError:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", other):
                errors.setdefault(f"{where}.other", []).append("another field, 'today', a number or a date")
                return None
    return {"field": rule.field, rule.op if rule.op in COMPARISONS else "atLeast": other, "message": rule.message}


# Posted form → spec -----------------------------------------------------------------------------------------------

def read_posted(form_id: str, form: Mapping[str, str], rows: int) -> FormSpec:
    """The spec a posted form designer says (``rows`` field rows were shown; the extra empty row adds one)."""
    fields = []
    for i in range(min(rows + 1, MAX_FIELDS)):
        name = (form.get(f"field.{i}.name") or "").strip()
        if not name:
            continue
        fields.append(FieldSpec(
            name, form.get(f"field.{i}.kind") or "text", (form.get(f"field.{i}.label") or "").strip(),
            (form.get(f"field.{i}.help") or "").strip(), form.get(f"field.{i}.required") == "yes",
            *(form.get(f"field.{i}.{k}", "").strip() for k in ("minimum", "maximum", "min_length", "max_length")),
            form.get(f"field.{i}.pattern", "").strip(), form.get(f"field.{i}.message", "").strip(),
            _split(form.get(f"field.{i}.choices", "")), form.get(f"field.{i}.raw", ""),
            _split(form.get(f"field.{i}.pair", "")), form.get(f"field.{i}.keep", "")))
    rules = []
    for j in range(int(form.get("rule_rows") or 0) + 1):
        rules.append(RuleSpec(form.get(f"rule.{j}.field", "").strip(), form.get(f"rule.{j}.op", "atLeast"),
                              form.get(f"rule.{j}.other", "").strip(), form.get(f"rule.{j}.message", "").strip(),
                              form.get(f"rule.{j}.outcome", "").strip(), _split(form.get(f"rule.{j}.requires", ""))))
    try:
        extra = json.loads(form.get("extra_ui") or "{}")
    except ValueError:
        extra = {}
    return FormSpec(form_id, (form.get("title") or "").strip(), tuple(fields),
                    tuple(r for r in rules if r != RuleSpec()), extra if isinstance(extra, dict) else {})


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())


def moved(spec: FormSpec, index: int, step: int) -> FormSpec:
    """The spec with field ``index`` moved up (-1) or down (+1)."""
    fields = list(spec.fields)
    other = index + step
    if 0 <= index < len(fields) and 0 <= other < len(fields):
        fields[index], fields[other] = fields[other], fields[index]
    return replace(spec, fields=tuple(fields))


def without(spec: FormSpec, index: int) -> FormSpec:
    """The spec without field ``index``."""
    return replace(spec, fields=tuple(f for i, f in enumerate(spec.fields) if i != index))


def field_names(fields: Sequence[FieldSpec]) -> list[str]:
    """The names steps can read (a date range's two, a money field's amount and currency)."""
    names = []
    for one in fields:
        if one.kind == "date-range":
            names += list(one.pair) if len(one.pair) == 2 else [f"{one.name}Start", f"{one.name}End"]
        elif one.kind == "money":
            names += [one.name, _currency_of(one)]
        else:
            names.append(one.name)
    return names
