"""The portability check names every construct whose meaning differs from Refluxo's Jexl."""

from __future__ import annotations

import pytest

from bpm.engine import validate_definition
from bpm.engine.expressions import compile_expression, compile_template
from bpm.engine.expressions.portability import expression_findings, template_findings

from .conftest import chain, node_types


@pytest.mark.parametrize("expression, kind", [
    ("nodes.a.output|upper", "transform"),
    ("-nodes.a.output", "negate"),
    ("-(1 + 2)", "negate"),
    ("review.output", "shorthand"),
    ("globals.token", "globals"),
    ("nodes.a.output.toUpperCase", "built-in"),
    ("nodes.a.output['constructor']", "built-in"),
    ("nodes.a.output[.hasOwnProperty]", "built-in"),
    ("2 ^ 0.5", "power"),
    ("nodes.a.output || nodes.b.output && nodes.c.output", "and-or"),
])
def test_each_kept_difference_is_named(expression, kind):
    assert kind in {finding.kind for finding in expression_findings(compile_expression(expression))}


@pytest.mark.parametrize("expression", [
    "nodes.a.output.amount > 1000", "input.limit * 2", "nodes.a.all[.data.ok].length",
    "(nodes.a.output || nodes.b.output) && true", "nodes.a.output ? 'yes' : 'no'", "-1 + 2",
    "nodes.users.output[.id == 3].name", "'k' in nodes.a.output.tags",
])
def test_portable_expressions_have_no_findings(expression):
    assert expression_findings(compile_expression(expression)) == []


def test_several_expressions_in_one_string_are_ours_alone():
    kinds = {finding.kind for finding in template_findings(compile_template("{{ input.a }} and {{ input.b }}"))}
    assert kinds == {"several"}
    assert template_findings(compile_template("Pay {{ input.a }} and {{ input.b }}")) == []


def test_validate_definition_warns_of_findings_only_when_asked():
    definition = chain(("s", "pass", {"x": "{{ s.output|upper }}"}))
    assert validate_definition(definition, node_types()) == []
    warnings = validate_definition(definition, node_types(), portable=True)
    assert [p.severity for p in warnings] == ["warning", "warning"]
    assert all(p.path == "$.nodes[0].data.x" for p in warnings)
    assert "the transform 'upper' is ours" in warnings[0].message
