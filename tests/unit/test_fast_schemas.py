"""The runtime's node-data validator (bpm.runtime.schemas) answers exactly as the engine's reference validator:
same validity, same errors, for every node type's schemas and data built from them, valid and not."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpm.config import Settings
from bpm.engine import ManualClock
from bpm.engine.schema import JsonSchemaValidator
from bpm.forms import FormRegistry
from bpm.nodes import build_node_types
from bpm.runtime.schemas import FastValidator, agrees_with_reference

NODE_TYPES = build_node_types(FormRegistry.load(Settings().forms_dir), ManualClock(0))
SCHEMAS = [(f"{name} {side}", schema) for name, definition in sorted(NODE_TYPES.items())
           for side, schema in (("input", definition.input_schema), ("output", definition.output_schema))
           if schema is not None]

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
                    | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
STRINGS = st.sampled_from(["", "x", "P1D", "-P2DT3H", "P", "PT", "P1D\n", "approve", "ann", "{{ x }}", "ü", " "])


def _objects(schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    properties, required = schema.get("properties", {}), set(schema.get("required", []))
    return st.fixed_dictionaries({key: instances(sub, depth + 1) for key, sub in properties.items() if key in required},
                                 optional={key: instances(sub, depth + 1) for key, sub in properties.items()
                                           if key not in required})


KINDS = {
    "object": _objects,
    "array": lambda schema, depth: st.lists(instances(schema.get("items", {}), depth + 1), max_size=3),
    "string": lambda schema, depth: STRINGS | st.text(max_size=10),
    "integer": lambda schema, depth: st.integers(-3, 2**65),
    "number": lambda schema, depth: st.floats(allow_nan=False) | st.integers(-3, 3),
    "boolean": lambda schema, depth: st.booleans(),
    "null": lambda schema, depth: st.none(),
}


def instances(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped by ``schema`` (mostly valid ones, since random JSON rarely is), now and then anything."""
    if not isinstance(schema, dict) or depth > 4:
        return JSON
    choices: list[st.SearchStrategy[Any]] = [JSON]
    if "const" in schema:
        choices.append(st.just(schema["const"]))
    if "enum" in schema:
        choices.append(st.sampled_from(schema["enum"]))
    for keyword in ("anyOf", "oneOf", "allOf"):
        choices += [instances(part, depth + 1) for part in schema.get(keyword, [])]
    kinds = schema.get("type", "object" if "properties" in schema else [])
    choices += [KINDS[kind](schema, depth) for kind in (kinds if isinstance(kinds, list) else [kinds]) if kind in KINDS]
    return st.one_of(choices)


def test_every_node_type_has_a_schema_the_fast_path_takes():
    """Else the test below would only compare the reference with itself."""
    taken = [label for label, schema in SCHEMAS if agrees_with_reference(schema)]
    assert "human-task input" in taken and len(taken) >= len(SCHEMAS) // 2, taken


@pytest.mark.parametrize(("label", "schema"), SCHEMAS, ids=[label for label, _ in SCHEMAS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_validator_answers_as_the_reference(label, schema, data):
    value = data.draw(instances(schema))
    fast, reference = FastValidator().validate(value, schema), JsonSchemaValidator().validate(value, schema)
    assert (fast.valid, fast.errors) == (reference.valid, reference.errors), label


@pytest.mark.parametrize("schema", [
    {"type": "string", "format": "date"},  # which formats are checked, and how, differs
    {"type": "string", "pattern": "^\\d+$"},  # \d: ASCII digits in Rust, any digit in Python
    {"properties": {"a": {"$ref": "https://example.com/s.json"}}},  # nothing from outside
    {"patternProperties": {"^\\w+$": {"type": "integer"}}},
])
def test_schemas_the_two_might_read_differently_go_to_the_reference_alone(schema):
    assert not agrees_with_reference(schema)


def test_a_value_python_finds_valid_and_rust_would_not_is_still_valid():
    """Python's ``$`` matches before a final newline, Rust's does not: the reference decides, as before."""
    schema = {"type": "string", "pattern": "^ok$"}
    assert agrees_with_reference(schema)
    assert FastValidator().validate("ok\n", schema).valid == JsonSchemaValidator().validate("ok\n", schema).valid


def test_a_value_rust_cannot_take_goes_to_the_reference():
    schema = {"type": "object"}
    assert FastValidator().validate({1: 2}, schema).valid == JsonSchemaValidator().validate({1: 2}, schema).valid
