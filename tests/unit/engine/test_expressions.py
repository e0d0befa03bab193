"""Jexl templates in node data: types kept, strings interpolated, transforms, clear errors."""

from __future__ import annotations

import pytest

from bpm.engine import Context, ExpressionError, JexlTransformEngine, NodeRun
from bpm.engine.expressions import compile_expression

from .conftest import load_cases

TABLE = load_cases("expressions.json")
CONTEXT = Context.from_runs({node: [NodeRun(o, 1_700_000_000_000 + i) for i, o in enumerate(outputs)]
                             for node, outputs in TABLE["context"].items()})
ENGINE = JexlTransformEngine()


def resolve(template):
    return ENGINE.transform({"value": template, "limit": 10}, CONTEXT).get("value", "(absent)")


@pytest.mark.parametrize("template, expected", [c[1:] for c in TABLE["cases"]], ids=[c[0] for c in TABLE["cases"]])
def test_expression(template, expected):
    assert resolve(template) == expected
    assert type(resolve(template)) is type(expected)


@pytest.mark.parametrize("template, message", [c[1:] for c in TABLE["errors"]], ids=[c[0] for c in TABLE["errors"]])
def test_expression_error(template, message):
    with pytest.raises(ExpressionError) as caught:
        resolve(template)
    assert message in str(caught.value)
    assert "data.value" in str(caught.value)


def test_nested_data_is_walked_and_returned_as_fresh_containers():
    data = {"a": ["{{ 1 + 1 }}", {"b": "x{{ 'y' }}"}], "n": 5, "t": True}
    resolved = ENGINE.transform(data, CONTEXT)
    assert resolved == {"a": [2, {"b": "xy"}], "n": 5, "t": True}
    assert resolved is not data and resolved["a"] is not data["a"]


def test_a_result_taken_from_the_context_is_a_copy():
    resolved = resolve("{{ submit.last.data.tags }}")
    resolved.append("c")
    assert resolve("{{ submit.last.data.tags }}") == ["a", "b"]


def test_parsed_expressions_are_cached():
    assert compile_expression("1 + 2") is compile_expression("1 + 2")


def test_the_error_path_points_into_nested_data():
    with pytest.raises(ExpressionError) as caught:
        ENGINE.transform({"rules": [{"when": "ok"}, {"when": "{{ [].x }}"}]}, CONTEXT)
    assert caught.value.path == "data.rules[1].when"
