"""Loading definitions: wrong shapes raise DefinitionError with every problem, never a bare KeyError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpm.engine import DefinitionError, WorkflowDefinition, WorkflowEngine

from .conftest import EXAMPLES, node_types

BAD_SHAPES = [
    ("not an object", [1, 2], "$", "JSON object"),
    ("no nodes", {"edges": []}, "$.nodes", "required"),
    ("nodes not a list", {"nodes": {"a": 1}}, "$.nodes", "must be a list"),
    ("node not an object", {"nodes": ["a"]}, "$.nodes[0]", "must be an object"),
    ("node without id", {"nodes": [{"type": "pass"}]}, "$.nodes[0].id", "non-empty string"),
    ("node id not a string", {"nodes": [{"id": 7, "type": "pass"}]}, "$.nodes[0].id", "non-empty string"),
    ("node without type", {"nodes": [{"id": "a"}]}, "$.nodes[0].type", "non-empty string"),
    ("metadata not an object", {"nodes": [{"id": "a", "type": "t", "metadata": 3}]}, "$.nodes[0].metadata", "object"),
    ("data not JSON", {"nodes": [{"id": "a", "type": "t", "data": {"x": float("inf")}}]}, "$.nodes[0].data.x",
     "finite"),
    ("edges not a list", {"nodes": [], "edges": "e"}, "$.edges", "must be a list"),
    ("edge without target", {"nodes": [{"id": "a", "type": "t"}], "edges": [{"id": "e", "source": "a"}]},
     "$.edges[0].target", "non-empty string"),
    ("handle not a string", {"nodes": [{"id": "a", "type": "t"}],
                             "edges": [{"id": "e", "source": "a", "target": "a", "sourceHandle": 1}]},
     "$.edges[0].sourceHandle", "string or null"),
    ("duplicate node id", {"nodes": [{"id": "a", "type": "t"}, {"id": "a", "type": "t"}]}, "$.nodes[1].id",
     "already used"),
    ("duplicate edge id", {"nodes": [{"id": "a", "type": "t"}],
                           "edges": [{"id": "e", "source": "a", "target": "a"},
                                     {"id": "e", "source": "a", "target": "a"}]}, "$.edges[1].id", "already used"),
    ("edge to a missing node", {"nodes": [{"id": "a", "type": "t"}], "edges": [{"id": "e", "source": "a",
                                                                               "target": "b"}]},
     "$.edges[0].target", "does not exist"),
    ("version not a number", {"version": "3", "nodes": []}, "$.version", "positive whole number"),
]


@pytest.mark.parametrize("raw, path, message", [c[1:] for c in BAD_SHAPES], ids=[c[0] for c in BAD_SHAPES])
def test_a_malformed_definition_names_the_field(raw, path, message):
    with pytest.raises(DefinitionError) as caught:
        WorkflowDefinition.from_dict(raw)
    assert any(p.path == path and message in p.message for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once():
    raw = {"nodes": [{"id": "a"}, {"type": "t"}], "edges": [{"id": "e"}]}
    with pytest.raises(DefinitionError) as caught:
        WorkflowDefinition.from_dict(raw)
    paths = {p.path for p in caught.value.problems}
    assert {"$.nodes[0].type", "$.nodes[1].id", "$.edges[0].source", "$.edges[0].target"} <= paths


def test_bad_json_text_is_a_definition_error():
    with pytest.raises(DefinitionError, match="not valid JSON"):
        WorkflowDefinition.from_json('{"nodes": [')


def test_an_unknown_node_type_stops_the_engine_from_loading():
    with pytest.raises(DefinitionError, match="unknown type 'nope'"):
        WorkflowEngine({"nodes": [{"id": "a", "type": "nope"}]}, node_types())


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_the_example_processes_round_trip_through_the_wire_format(path):
    raw = json.loads(path.read_text())
    loaded = WorkflowDefinition.from_dict(raw)
    again = WorkflowDefinition.from_dict(loaded.to_dict())
    assert again == loaded
    assert again.extra["description"] == raw["description"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=10)


@given(json_values)
def test_any_json_value_either_loads_or_raises_a_definition_error(raw):
    try:
        WorkflowDefinition.from_dict(raw)
    except DefinitionError as error:
        assert error.problems
