"""Node types may declare JSON schemas for their input and output; violations fail the node."""

from __future__ import annotations

import pytest

from bpm.engine import DefinitionError, NodeDefinition, NodeResult, ValidationResult

from .conftest import chain, node_types

AMOUNT = {"type": "object", "required": ["amount"],
          "properties": {"amount": {"type": "number", "exclusiveMinimum": 0}, "day": {"format": "date"}}}


def _types(output=None):
    executor = (lambda d, c, p, g: NodeResult(output)) if output is not None else (lambda d, c, p, g: NodeResult(d))
    return node_types(pay=NodeDefinition(executor, metadata={"input": AMOUNT, "output": AMOUNT}))


def test_resolved_input_that_breaks_the_schema_fails_the_node_with_paths(make_engine):
    engine = make_engine(chain(("p", "pay", {"amount": "{{ -5 }}", "day": "31.12.2026"})), node_definitions=_types())
    failed = engine.execute(initial_node_id="p")
    error = failed.context["p"][0].error
    assert failed.status == "failed"
    assert "input of node 'p' is invalid" in error
    assert "$.amount: -5 is less than or equal to the minimum of 0" in error
    assert "$.day: '31.12.2026' is not a 'date'" in error


def test_valid_input_passes(make_engine):
    engine = make_engine(chain(("p", "pay", {"amount": 12.5, "day": "2026-12-31"})), node_definitions=_types())
    assert engine.execute(initial_node_id="p").status == "completed"


def test_output_that_breaks_the_schema_fails_the_node(make_engine):
    engine = make_engine(chain(("p", "pay", {"amount": 1})), node_definitions=_types(output={"amount": "lots"}))
    failed = engine.execute(initial_node_id="p")
    assert "output of node 'p' is invalid" in failed.context["p"][0].error


def test_a_custom_validator_can_transform_data(make_engine):
    class Upper:
        def validate(self, data, schema):
            return ValidationResult(True, {k: v.upper() if isinstance(v, str) else v for k, v in data.items()})

    engine = make_engine(chain(("p", "pay", {"amount": 1, "note": "hi"})), node_definitions=_types(),
                         validator=Upper())
    assert engine.execute(initial_node_id="p").context["p"][0].output == {"amount": 1, "note": "HI"}


def test_a_broken_schema_is_reported_as_a_definition_error(make_engine):
    types = node_types(bad=NodeDefinition(lambda d, c, p, g: NodeResult(d), metadata={"input": {"type": 12}}))
    engine = make_engine(chain(("b", "bad")), node_definitions=types)
    failed = engine.execute(initial_node_id="b")
    assert "invalid JSON schema" in failed.context["b"][0].error
    with pytest.raises(DefinitionError):
        from bpm.engine import JsonSchemaValidator
        JsonSchemaValidator().compiled({"type": 12})


def test_remembered_valid_data_never_hides_an_invalid_value():
    from bpm.engine import JsonSchemaValidator

    validator = JsonSchemaValidator()
    for _ in range(2):
        assert validator.validate({"amount": 5}, AMOUNT).valid
    second = {"amount": 5}
    second["amount"] = -5
    result = validator.validate(second, AMOUNT)
    assert not result.valid and result.errors[0].path == "$.amount"
    assert validator.validate({"amount": 5, "day": "2026-02-30"}, AMOUNT).errors[0].path == "$.day"
