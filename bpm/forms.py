"""Forms: one JSON file per form, validated on the server and rendered in the inbox.

A form is ``{id, title, schema, rules?, ui?}``. ``schema`` is JSON Schema
2020-12; ``rules`` add what a schema cannot say: what the task's outcome
requires (``{"if": {"outcome": "reject"}, "require": ["comment"]}``), and
how fields compare (``{"field": "lastDay", "atLeast": {"field": "firstDay"},
"message": "..."}``, or ``"atLeast": "today"``; also ``atMost``, ``above``,
``below``), each refused at its field with the message a person reads. ``ui`` says how
it shows: ``order``, ``widgets`` (textarea, radio, current-user…), ``readOnly``
and ``money`` (``{"amount": "currency"}``: the two fields as one sum).

Identity fields are the server's to fill: a field whose widget is
``current-user`` (``ui.widgets``) or whose schema says ``"x-bpm-actor": true``
holds the acting user, whatever the caller sent, so "requester" cannot be
spoofed. A field marked ``"x-bpm-requester": true`` names a requester the
caller chooses (an assistant filing for her boss); four-eyes bars both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from bpm.engine.errors import BpmError
from bpm.errors import FormInvalid, NotFound, shown

ROOT_FIELD = "_form"
CURRENT_USER_WIDGET = "current-user"


class FormsBroken(BpmError):
    """A form file is unusable; raised at start-up so a broken form never reaches a user."""


@dataclass(frozen=True)
class Form:
    """A loaded, checked form."""

    id: str
    title: str
    schema: Mapping[str, Any]
    rules: tuple[Mapping[str, Any], ...] = ()
    ui: Mapping[str, Any] = field(default_factory=dict)

    @property
    def actor_fields(self) -> tuple[str, ...]:
        """Top-level fields the server fills with the acting user's name."""
        widgets = self.ui.get("widgets", {})
        return tuple(name for name, spec in self.schema.get("properties", {}).items()
                     if widgets.get(name) == CURRENT_USER_WIDGET
                     or (isinstance(spec, dict) and spec.get("x-bpm-actor") is True))

    @property
    def requester_fields(self) -> tuple[str, ...]:
        """Fields naming who asked: the actor fields, and fields marked ``x-bpm-requester``."""
        marked = tuple(name for name, spec in self.schema.get("properties", {}).items()
                       if isinstance(spec, dict) and spec.get("x-bpm-requester") is True)
        return self.actor_fields + tuple(name for name in marked if name not in self.actor_fields)

    def to_dict(self) -> dict[str, Any]:
        """The form as served to clients."""
        return {"id": self.id, "title": self.title, "schema": self.schema, "rules": list(self.rules),
                "ui": self.ui}


class FormRegistry:
    """All forms by id, with one validation rule used by the API, the web inbox and the engine.

    ``today`` gives the date rules compare with ``"today"`` (the injected clock's, in UTC).
    """

    def __init__(self, forms: Mapping[str, Form], today: Callable[[], dt.date] | None = None) -> None:
        self._forms = dict(forms)
        self.today = today or (lambda: dt.datetime.now(dt.UTC).date())
        self._validators = {
            form_id: Draft202012Validator(form.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            for form_id, form in self._forms.items()}

    @classmethod
    def load(cls, directory: Path, today: Callable[[], dt.date] | None = None) -> FormRegistry:
        """Load every ``*.json`` form in ``directory``; raise FormsBroken listing every broken file."""
        forms: dict[str, Form] = {}
        problems: list[str] = []
        for path in sorted(directory.glob("*.json")):
            try:
                form = parse_form(json.loads(path.read_text()), expected_id=path.stem)
            except (ValueError, FormsBroken) as exc:
                problems.append(f"{path.name}: {exc}")
                continue
            forms[form.id] = form
        if problems:
            raise FormsBroken("broken forms in " + str(directory) + ": " + "; ".join(problems))
        return cls(forms, today)

    def __contains__(self, form_id: object) -> bool:
        return form_id in self._forms

    def ids(self) -> list[str]:
        """Every form id, sorted."""
        return sorted(self._forms)

    def get(self, form_id: str) -> Form:
        """The form with this id, or NotFound."""
        try:
            return self._forms[form_id]
        except KeyError:
            raise NotFound(f"no form {shown(form_id)}") from None

    def fill_actor(self, form_id: str | None, data: Any, username: str) -> Any:
        """``data`` with the form's actor fields set to ``username`` (other values are left to ``validate``)."""
        if form_id is None or form_id not in self._forms or not isinstance(data, dict):
            return data
        names = self._forms[form_id].actor_fields
        return {**data, **dict.fromkeys(names, username)} if names else data

    def validate(self, form_id: str | None, data: Any, outcome: str | None = None) -> dict[str, Any]:
        """Check submitted ``data`` (for ``outcome``); return it, or raise FormInvalid with field errors.

        No form means anything object-shaped is accepted.
        """
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise FormInvalid("form data must be an object", {ROOT_FIELD: ["must be an object"]})
        if form_id is None:
            return data
        form = self.get(form_id)
        errors: dict[str, list[str]] = {}
        for error in self._validators[form_id].iter_errors(data):
            for name, message in _field_errors(error, data):
                messages = errors.setdefault(name, [])
                if message not in messages:  # jsonschema reports a missing field once per missing field
                    messages.append(message)
        for rule in form.rules:
            for name, message in _rule_errors(form, rule, data, outcome, self.today):
                if not errors.get(name) or "require" in rule:  # a comparison of a value already wrong says nothing
                    errors.setdefault(name, []).append(message)
        if errors:
            raise FormInvalid(f"the data does not fit form '{form_id}'", errors)
        return data


def _rule_errors(form: Form, rule: Mapping[str, Any], data: Mapping[str, Any], outcome: str | None,
                 today: Callable[[], dt.date]) -> list[tuple[str, str]]:
    """What one rule says is wrong with ``data``: (field, message) pairs."""
    properties = form.schema.get("properties", {})
    if "field" in rule:
        message = compare_rule(rule, properties, data, today)
        return [] if message is None else [(rule["field"], message)]
    if not _rule_applies(rule.get("if", {}), data, outcome):
        return []
    reason = f" when the outcome is '{outcome}'" if "outcome" in rule.get("if", {}) else ""
    return [(name, f"{properties.get(name, {}).get('title', name)} is required{reason}")
            for name in rule.get("require", []) if data.get(name) in (None, "", [])]


def parse_form(raw: Any, expected_id: str | None = None) -> Form:
    """Check one form document; raise FormsBroken with the reason."""
    if not isinstance(raw, dict):
        raise FormsBroken("a form must be a JSON object")
    form_id, title, schema = raw.get("id"), raw.get("title"), raw.get("schema")
    if not isinstance(form_id, str) or not form_id:
        raise FormsBroken("'id' must be a non-empty string")
    if expected_id is not None and form_id != expected_id:
        raise FormsBroken(f"id '{form_id}' does not match the file name '{expected_id}.json'")
    if not isinstance(title, str):
        raise FormsBroken("'title' must be a string")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise FormsBroken("'schema' must be a JSON schema of type object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise FormsBroken(f"invalid schema: {exc.message}") from None
    rules = raw.get("rules", [])
    known = set(schema.get("properties", {}))
    if not isinstance(rules, list) or not all(_rule_ok(rule, known) for rule in rules):
        raise FormsBroken("'rules' must be a list of {if: {...}, require: [known fields]} or "
                          "{field, atLeast|atMost|above|below: {field} | 'today' | a value, message}")
    ui = raw.get("ui", {})
    if not isinstance(ui, dict):
        raise FormsBroken("'ui' must be an object")
    _check_money(ui.get("money", {}), schema.get("properties", {}))
    return Form(form_id, title, schema, tuple(rules), ui)


def _check_money(money: Any, properties: Mapping[str, Any]) -> None:
    """``ui.money`` pairs an amount field (a number) with its currency field (a string), each used once."""
    if not isinstance(money, dict):
        raise FormsBroken("'ui.money' must map amount fields to their currency fields")
    for amount, currency in money.items():
        if properties.get(amount, {}).get("type") not in ("number", "integer"):
            raise FormsBroken(f"ui.money: '{amount}' must be a number field of the form")
        if not isinstance(currency, str) or properties.get(currency, {}).get("type") != "string":
            raise FormsBroken(f"ui.money: '{amount}' needs a string currency field, not {currency!r}")
    if len(set(money.values())) != len(money) or set(money) & set(money.values()):
        raise FormsBroken("ui.money: each amount has its own currency field")


def _rule_ok(rule: Any, known: set[str]) -> bool:
    if isinstance(rule, dict) and "field" in rule:
        return _compare_rule_ok(rule, known)
    return (isinstance(rule, dict) and isinstance(rule.get("if", {}), dict)
            and isinstance(rule.get("require"), list) and set(rule["require"]) <= known)


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "atLeast": lambda a, b: a >= b, "atMost": lambda a, b: a <= b,
    "above": lambda a, b: a > b, "below": lambda a, b: a < b}


def _compare_rule_ok(rule: dict[str, Any], known: set[str]) -> bool:
    ops = [op for op in COMPARISONS if op in rule]
    if rule.get("field") not in known or len(ops) != 1 or not isinstance(rule.get("message"), str):
        return False
    if set(rule) - {"field", "message", ops[0]}:
        return False
    other = rule[ops[0]]
    return (other == "today" or (isinstance(other, dict) and set(other) == {"field"} and other["field"] in known)
            or isinstance(other, (int, float, str)))


def compare_rule(rule: Mapping[str, Any], properties: Mapping[str, Any], data: Mapping[str, Any],
                 today: Callable[[], dt.date]) -> str | None:
    """The rule's message if the field's value breaks it; None if it holds or a value is missing or unreadable."""
    op = next(op for op in COMPARISONS if op in rule)
    field_name, other = rule["field"], rule[op]
    kind = _kind(properties.get(field_name, {}))
    left = _comparable(data.get(field_name), kind)
    if other == "today":
        right: Any = today() if kind == "date" else None
    elif isinstance(other, dict):
        right = _comparable(data.get(other["field"]), kind)
    else:
        right = _comparable(other, kind)
    if left is None or right is None:
        return None  # a missing value is the "required" check's to report, a malformed one the schema's
    try:
        return None if COMPARISONS[op](left, right) else str(rule["message"])
    except TypeError:
        return None


def _kind(spec: Any) -> str:
    if not isinstance(spec, dict):
        return "text"
    if spec.get("format") in ("date", "date-time"):
        return str(spec["format"])
    return "number" if spec.get("type") in ("number", "integer") else "text"


def _comparable(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    try:
        if kind == "date":
            return dt.date.fromisoformat(str(value))
        if kind == "date-time":
            return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if kind == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def _rule_applies(condition: Mapping[str, Any], data: Mapping[str, Any], outcome: str | None) -> bool:
    return all((outcome if key == "outcome" else data.get(key)) == value for key, value in condition.items())


def _field_errors(error: Any, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Name the field an error is about: required and unknown fields are reported on themselves."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and not error.absolute_path:
        return [(name, "is required") for name in error.validator_value if name not in data]
    if error.validator == "additionalProperties" and not error.absolute_path:
        allowed = set(error.schema.get("properties", {}))
        return [(name, "is not a field of this form") for name in data if name not in allowed]
    return [(path or ROOT_FIELD, error.message)]
