"""The node reference is the registry's: every type describes itself fully, and docs/nodes.md says the same."""

from __future__ import annotations

from pathlib import Path

from bpm.cli.docs import node_reference
from bpm.engine import SystemClock
from bpm.forms import FormRegistry
from bpm.nodes import build_node_types
from bpm.nodes.about import PICKS, about_of
from bpm.runtime.node_reference import entries

REPO = Path(__file__).resolve().parents[2]
TYPES = build_node_types(FormRegistry({}), SystemClock())


def test_docs_nodes_md_is_what_the_registry_says():
    assert (REPO / "docs" / "nodes.md").read_text() == node_reference(), (
        "docs/nodes.md is stale: run `bpm docs nodes --write docs/nodes.md`")


def test_every_built_in_type_describes_itself_and_each_of_its_data_fields():
    assert {entry.name for entry in entries(TYPES)} == set(TYPES)
    for entry in entries(TYPES):
        assert entry.about.label and entry.about.summary and entry.about.exits_text, entry.name
        assert [f.name for f in entry.fields if not f.help] == [], f"{entry.name}: fields without help"
        assert {f.picks for f in entry.fields if f.picks} <= set(PICKS), entry.name


def test_each_example_is_valid_data_for_its_type():
    from bpm.engine.schema import JsonSchemaValidator

    validator = JsonSchemaValidator()
    for name, node_type in TYPES.items():
        example = about_of(node_type).example
        assert validator.problems(example, node_type.input_schema, "$") == [], name


def test_exits_come_from_the_data_and_are_unknown_when_an_expression_names_them():
    task = about_of(TYPES["human-task"])
    assert task.exits_of({"title": "t"}) == ("complete",)
    assert task.exits_of({"title": "{{ x }}", "outcomes": ["ok", "no"]}) == ("ok", "no"), "a title is no exit"
    assert task.exits_of({"title": "t", "outcomes": ["{{ x }}"]}) is None
    decision = about_of(TYPES["decision"])
    assert decision.exits_of({"rules": [{"when": "{{ a > 1 }}", "handle": "big"}]}) == ("big", None)
    assert about_of(TYPES["end"]).exits_of({}) == ()
    assert about_of(TYPES["fork"]).exits_of({}) is None, "a fork takes every edge: no exit is missing"
