"""Every message a person can see at a field is written for that person, never a validator's words."""

from __future__ import annotations

import pytest

from bpm.errors import FormInvalid
from bpm.forms import FormRegistry, parse_form

SCHEMA = {"type": "object", "properties": {
    "amount": {"type": "number", "minimum": 0, "maximum": 100000},
    "count": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 5},
    "name": {"type": "string", "minLength": 3, "maxLength": 10},
    "note": {"type": "string", "minLength": 1},
    "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "day": {"type": "string", "format": "date"},
    "mail": {"type": "string", "format": "email"},
    "kind": {"enum": ["travel", "meals", "other"]},
    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2, "uniqueItems": True},
    "lines": {"type": "array", "items": {"type": "object", "required": ["what"], "additionalProperties": False,
                                         "properties": {"what": {"type": "string"}}}},
    "own": {"type": "integer", "minimum": 1, "x-messages": {"minimum": "Take at least one."}},
}, "additionalProperties": False}

REGISTRY = FormRegistry({"f": parse_form({"id": "f", "title": "F", "schema": SCHEMA})})


@pytest.mark.parametrize(("data", "field", "said"), [
    ({"amount": -50}, "amount", "must be at least 0"),
    ({"amount": 200000}, "amount", "must be at most 100,000"),
    ({"amount": "12e"}, "amount", "'12e' is not a number"),
    ({"amount": True}, "amount", "must be a number"),
    ({"count": 0}, "count", "must be more than 0"),
    ({"count": 7}, "count", "must be a multiple of 5"),
    ({"count": 1.5}, "count", "must be a whole number"),
    ({"name": "x"}, "name", "at least 3 characters"),
    ({"name": "x" * 11}, "name", "at most 10 characters"),
    ({"note": ""}, "note", "must not be empty"),
    ({"code": "ab"}, "code", "is not in the expected form"),
    ({"day": "31.12.2026"}, "day", "must be a date (year-month-day, e.g. 2026-12-31)"),
    ({"mail": "nobody"}, "mail", "must be an e-mail address"),
    ({"kind": "fun"}, "kind", "must be one of: travel, meals, other"),
    ({"tags": []}, "tags", "at least 1 entry"),
    ({"tags": ["a", "b", "c"]}, "tags", "at most 2 entries"),
    ({"tags": ["a", "a"]}, "tags", "has the same entry twice"),
    ({"lines": [{}]}, "lines.0.what", "is required"),
    ({"lines": [{"what": "x", "extra": 1}]}, "lines.0.extra", "is not a field of this form"),
    ({"ghost": 1}, "ghost", "is not a field of this form"),
    ({"own": 0}, "own", "Take at least one."),
])
def test_each_broken_limit_is_said_in_words_for_the_person_at_its_field(data, field, said):
    with pytest.raises(FormInvalid) as refused:
        REGISTRY.validate("f", data)
    assert refused.value.errors == {field: [said]}


def test_no_message_repeats_the_validator():
    """jsonschema says the value and the limit ("-50 is less than or equal to the minimum of 0"): none of it."""
    broken = {"amount": -50, "name": "x", "code": "ab", "day": "x", "kind": "fun", "tags": [], "count": 0}
    with pytest.raises(FormInvalid) as refused:
        REGISTRY.validate("f", broken)
    said = " ".join(m for messages in refused.value.errors.values() for m in messages)
    assert len(refused.value.errors) == len(broken)
    for validator_words in ("less than or equal", "is too short", "does not match", "is not one of", "is not a '",
                            "should be non-empty", "is a required property"):
        assert validator_words not in said
