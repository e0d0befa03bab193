"""What a person reads when a value breaks a form's schema: the message table for the JSON Schema keywords.

jsonschema's own messages are written for the author of a schema ("-50 is less than or equal to the minimum
of 0", "'x' is too short"); they reach employees at the field they typed in, so every keyword a form can use
says its limit here, once, in words for that person ("must be at least 0", "at least 3 characters"). A form may
still say its own words for a limit (``x-messages``): that wins, and is the registry's to read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

FORMATS = {
    "date": "must be a date (year-month-day, e.g. 2026-12-31)",
    "date-time": "must be a date and time",
    "time": "must be a time of day",
    "email": "must be an e-mail address",
    "uri": "must be a web address (https://…)",
    "uuid": "must be an identifier like 123e4567-e89b-12d3-a456-426614174000",
}

TYPES = {
    "integer": "must be a whole number",
    "number": "must be a number",
    "string": "must be text",
    "boolean": "must be yes or no",
    "array": "must be a list",
    "object": "must be a group of fields",
    "null": "must be empty",
}


def said_for_person(error: Any) -> str:
    """The words for one jsonschema ``ValidationError`` at its field (unknown keywords: a plain "is not valid")."""
    say = KEYWORDS.get(error.validator)
    return say(error.validator_value, error.instance) if say is not None else "is not valid"


def _number(value: Any) -> str:
    """A limit as people write it: digits grouped, no trailing ".0"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _count(limit: Any, one: str, many: str) -> str:
    return f"{_number(limit)} {one if limit == 1 else many}"


def not_a_number(text: str, whole: bool) -> str:
    """What a person reads who typed ``text`` where a number goes (said the same by the page and the API)."""
    shown = text if len(text) <= 20 else text[:19] + "…"
    return f"'{shown}' is not a whole number" if whole else f"'{shown}' is not a number"


def _typed(expected: Any, instance: Any) -> str:
    kinds = expected if isinstance(expected, list) else [expected]
    if kinds[0] in ("number", "integer") and isinstance(instance, str):
        return not_a_number(instance, whole=kinds[0] == "integer")
    return TYPES.get(str(kinds[0]), "is not valid")


def _one_of(allowed: Any, _instance: Any) -> str:
    choices = [str(choice) for choice in allowed if choice is not None] if isinstance(allowed, list) else []
    if not choices or len(choices) > 6:
        return "is not one of the choices"
    return "must be one of: " + ", ".join(choices)


KEYWORDS: Mapping[str, Callable[[Any, Any], str]] = {
    "minimum": lambda limit, _: f"must be at least {_number(limit)}",
    "maximum": lambda limit, _: f"must be at most {_number(limit)}",
    "exclusiveMinimum": lambda limit, _: f"must be more than {_number(limit)}",
    "exclusiveMaximum": lambda limit, _: f"must be less than {_number(limit)}",
    "multipleOf": lambda step, _: f"must be a multiple of {_number(step)}",
    "minLength": lambda limit, _: ("must not be empty" if limit == 1
                                   else f"at least {_count(limit, 'character', 'characters')}"),
    "maxLength": lambda limit, _: f"at most {_count(limit, 'character', 'characters')}",
    "pattern": lambda _pattern, _: "is not in the expected form",
    "format": lambda name, _: FORMATS.get(str(name), "is not in the expected form"),
    "type": _typed,
    "enum": _one_of,
    "const": lambda value, _: f"must be {value}",
    "minItems": lambda limit, _: f"at least {_count(limit, 'entry', 'entries')}",
    "maxItems": lambda limit, _: f"at most {_count(limit, 'entry', 'entries')}",
    "uniqueItems": lambda _unique, _: "has the same entry twice",
    "minProperties": lambda limit, _: f"at least {_count(limit, 'field', 'fields')} must be filled in",
    "maxProperties": lambda limit, _: f"at most {_count(limit, 'field', 'fields')}",
    "required": lambda _names, _: "is required",
    "additionalProperties": lambda _allowed, _: "is not a field of this form",
    "oneOf": lambda _schemas, _: "does not fit any of the allowed shapes",
    "anyOf": lambda _schemas, _: "does not fit any of the allowed shapes",
    "not": lambda _schema, _: "is not allowed",
}
