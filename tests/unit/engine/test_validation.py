"""validate_definition returns every problem a designer should fix, each with a path."""

from __future__ import annotations

import json

import pytest

from bpm.engine import DefinitionError, NodeDefinition, NodeResult, check_definition, validate_definition
from bpm.nodes.branches import FORK, JOIN

from .conftest import EXAMPLES, node_types

TASK_SCHEMA = {"type": "object", "required": ["title"],
               "properties": {"title": {"type": "string"}, "priority": {"type": "integer", "maximum": 100}}}


def _types():
    noop = NodeDefinition(lambda d, c, p, g: NodeResult(d))
    return node_types(**{t: noop for t in ("start", "decision", "set", "notify", "end", "timer")},
                      **{"human-task": NodeDefinition(noop.executor, metadata={"input": TASK_SCHEMA})},
                      fork=FORK, join=JOIN)


def _paths(problems, severity="error"):
    return {p.path: p.message for p in problems if p.severity == severity}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_the_example_processes_are_valid(path):
    assert validate_definition(json.loads(path.read_text()), _types()) == []


def test_a_broken_definition_reports_every_problem_at_once():
    definition = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "review", "type": "human-task", "data": {"priority": 500}},
            {"id": "odd", "type": "mystery"},
            {"id": "calc", "type": "set", "data": {"values": {"x": "{{ 1 + }}", "y": ["ok", "{{ a|nosuch }}"]}}},
            {"id": "island", "type": "pass"},
            {"id": "loop_a", "type": "pass"}, {"id": "loop_b", "type": "pass"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {"id": "e2", "source": "review", "target": "calc", "sourceHandle": "approve"},
            {"id": "e3", "source": "review", "target": "odd", "sourceHandle": "approve"},
            {"id": "e4", "source": "loop_a", "target": "loop_b"}, {"id": "e5", "source": "loop_b", "target": "loop_a"},
        ],
    }
    problems = validate_definition(definition, _types(), start_node_ids=["start"])
    errors = _paths(problems)
    assert "unknown type 'mystery'" in errors["$.nodes[2].type"]
    assert "'title' is a required property" in errors["$.nodes[1].data"]
    assert "500 is greater than the maximum of 100" in errors["$.nodes[1].data.priority"]
    assert "syntax error: unexpected end of expression" in errors["$.nodes[3].data.values.x"]
    assert "unknown transform 'nosuch'" in errors["$.nodes[3].data.values.y[1]"]
    assert "cannot be reached" in errors["$.nodes[4]"]
    assert "cannot be reached" in errors["$.nodes[5]"] and "cannot be reached" in errors["$.nodes[6]"]
    warnings = _paths(problems, "warning")
    assert "only the first is ever followed" in warnings["$.edges[2]"]


def test_data_holding_an_expression_is_checked_at_run_time_not_against_the_schema():
    definition = {"nodes": [{"id": "t", "type": "human-task",
                             "data": {"title": "{{ 'dynamic' }}", "priority": "{{ 40 + 2 }}"}}]}
    assert validate_definition(definition, _types()) == []


def test_a_cycle_with_no_entry_has_no_start_node():
    definition = {"nodes": [{"id": "a", "type": "pass"}, {"id": "b", "type": "pass"}],
                  "edges": [{"id": "e1", "source": "a", "target": "b"}, {"id": "e2", "source": "b", "target": "a"}]}
    assert "no start node" in _paths(validate_definition(definition, _types()))["$.nodes"]


def test_shape_problems_come_back_as_problems_not_exceptions():
    problems = validate_definition('{"nodes": 3}', _types())
    assert [(p.path, p.severity) for p in problems] == [("$.nodes", "error")]


def test_a_reserved_expression_name_as_node_id_is_a_warning():
    problems = validate_definition({"nodes": [{"id": "input", "type": "pass"}]}, _types())
    assert _paths(problems, "warning").keys() == {"$.nodes[0].id"}


def test_check_definition_raises_only_for_errors():
    warned = {"nodes": [{"id": "a", "type": "route", "data": {"handle": "h"}}, {"id": "b", "type": "pass"}],
              "edges": [{"id": "e1", "source": "a", "target": "b", "sourceHandle": "h"},
                        {"id": "e2", "source": "a", "target": "b", "sourceHandle": "h"}]}
    assert check_definition(warned, _types()).nodes_by_id["b"].type == "pass"
    with pytest.raises(DefinitionError) as caught:
        check_definition({"nodes": [{"id": "a", "type": "nope"}]}, _types())
    assert caught.value.problems[0].path == "$.nodes[0].type"
