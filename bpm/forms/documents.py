"""A form document ``{id, title, schema, rules?, ui?}``, checked: every problem with its path, or a ``Form``.

The same check serves the seed files at start-up (a broken one stops the
service, naming the file), ``POST /api/forms`` (a 422 with the path of each
problem) and the form designer, so a form that loads in one loads in all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from bpm.engine.errors import BpmError, Problem
from bpm.forms.form import Form

FORM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "atLeast": lambda a, b: a >= b, "atMost": lambda a, b: a <= b,
    "above": lambda a, b: a > b, "below": lambda a, b: a < b}
RULE_SHAPES = ("{if: {...}, require: [known fields]} or "
               "{field, atLeast|atMost|above|below: {field} | 'today' | a value, message}")


class FormsBroken(BpmError):
    """A form is unusable: a seed file stops start-up, a posted one is a 422; ``problems`` say where."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def parse_form(raw: Any, expected_id: str | None = None, version: int = 1) -> Form:
    """Check one form document; raise FormsBroken with every problem (the first in the message)."""
    problems = form_problems(raw, expected_id)
    if problems:
        said = "; ".join(p.message if p.path == "$" else f"{p.path[2:]}: {p.message}" for p in problems[:5])
        raise FormsBroken(said, problems)
    return Form(raw["id"], raw["title"], raw["schema"], tuple(raw.get("rules", [])), raw.get("ui", {}), version)


def form_problems(raw: Any, expected_id: str | None = None) -> list[Problem]:
    """Every reason ``raw`` is not a usable form, each at its JSON path (``$.schema.properties.price``)."""
    if not isinstance(raw, dict):
        return [Problem("$", "a form must be a JSON object")]
    found = list(_identity_problems(raw, expected_id))
    schema = raw.get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [*found, Problem("$.schema", "'schema' must be a JSON schema of type object")]
    found.extend(Problem(_path("$.schema", error.absolute_path), f"invalid schema: {error.message}")
                 for error in sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path))))
    if found:
        return found
    properties = schema.get("properties", {})
    found.extend(_rule_problems(raw.get("rules", []), set(properties)))
    ui = raw.get("ui", {})
    if not isinstance(ui, dict):
        found.append(Problem("$.ui", "'ui' must be an object"))
    else:
        found.extend(_money_problems(ui.get("money", {}), properties))
    return found


def _identity_problems(raw: Mapping[str, Any], expected_id: str | None) -> Iterator[Problem]:
    form_id, title = raw.get("id"), raw.get("title")
    if not isinstance(form_id, str) or not form_id:
        yield Problem("$.id", "'id' must be a non-empty string")
    elif expected_id is not None and form_id != expected_id:
        yield Problem("$.id", f"id '{form_id}' does not match the file name '{expected_id}.json'")
    if not isinstance(title, str) or not title.strip():
        yield Problem("$.title", "'title' must be a string: the name people read")
    elif len(title) > 200:
        yield Problem("$.title", "'title' must be at most 200 characters")


def new_form_id_problem(form_id: Any) -> Problem | None:
    """An id for a new form: lower case letters, digits, - and _, as it appears in URLs and definitions."""
    if isinstance(form_id, str) and FORM_ID.match(form_id):
        return None
    return Problem("$.id", "a form id is 1 to 100 lower-case letters, digits, '-' or '_', starting with a letter "
                           "or digit")


def _path(root: str, parts: Any) -> str:
    path = root
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _rule_problems(rules: Any, known: set[str]) -> Iterator[Problem]:
    if not isinstance(rules, list):
        yield Problem("$.rules", f"'rules' must be a list of {RULE_SHAPES}")
        return
    for i, rule in enumerate(rules):
        said = _rule_problem(rule, known)
        if said:
            yield Problem(f"$.rules[{i}]", f"'rules' item {i + 1}: {said}")


def _rule_problem(rule: Any, known: set[str]) -> str | None:
    """What is wrong with one rule, in words, or None."""
    if isinstance(rule, dict) and "field" in rule:
        return _compare_rule_problem(rule, known)
    if not isinstance(rule, dict) or not isinstance(rule.get("if", {}), dict) or \
            not isinstance(rule.get("require"), list):
        return f"must be {RULE_SHAPES}"
    unknown = [name for name in rule["require"] if name not in known]
    return f"requires {', '.join(map(str, unknown))}, not fields of the form" if unknown else None


def _compare_rule_problem(rule: dict[str, Any], known: set[str]) -> str | None:
    ops = [op for op in COMPARISONS if op in rule]
    if rule.get("field") not in known:
        return f"compares {rule.get('field')!r}, not a field of the form"
    if len(ops) != 1 or set(rule) - {"field", "message", *ops}:
        return f"must be {RULE_SHAPES}"
    if not isinstance(rule.get("message"), str) or not rule["message"].strip():
        return "needs the message a person reads when it is broken"
    other = rule[ops[0]]
    if other == "today" or (isinstance(other, (int, float, str)) and not isinstance(other, bool)):
        return None
    if isinstance(other, dict) and set(other) == {"field"} and other["field"] in known:
        return None
    return f"compares with {other!r}: give {{field}} of this form, 'today' or a value"


def _money_problems(money: Any, properties: Mapping[str, Any]) -> Iterator[Problem]:
    """``ui.money`` pairs an amount field (a number) with its currency field (a string), each used once."""
    if not isinstance(money, dict):
        yield Problem("$.ui.money", "'ui.money' must map amount fields to their currency fields")
        return
    for amount, currency in money.items():
        where = f"$.ui.money.{amount}"
        if properties.get(amount, {}).get("type") not in ("number", "integer"):
            yield Problem(where, f"ui.money: '{amount}' must be a number field of the form")
        elif not isinstance(currency, str) or properties.get(currency, {}).get("type") != "string":
            yield Problem(where, f"ui.money: '{amount}' needs a string currency field, not {currency!r}")
    if len(set(map(str, money.values()))) != len(money) or set(money) & set(map(str, money.values())):
        yield Problem("$.ui.money", "ui.money: each amount has its own currency field")
