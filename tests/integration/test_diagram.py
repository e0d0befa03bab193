"""The process diagram: a layout without overlaps, every edge drawn, the run's state in shapes and words."""

from __future__ import annotations

import json
import re

import pytest

from bpm.web.diagram import NODE_H, NODE_W, RunState, layout, render_svg

from ..conftest import REPO

EXAMPLES = sorted((REPO / "processes").glob("*.json"))


def _without_positions(definition: dict) -> dict:
    return {**definition, "nodes": [{k: v for k, v in n.items() if k != "metadata"} for n in definition["nodes"]]}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.parametrize("positions", ["from the editor", "layered"])
def test_no_two_nodes_overlap_and_every_edge_is_drawn(path, positions):
    definition = json.loads(path.read_text())
    if positions == "layered":
        definition = _without_positions(definition)
    boxes = layout(definition)
    assert set(boxes) == {n["id"] for n in definition["nodes"]}
    placed = list(boxes.values())
    for i, a in enumerate(placed):
        assert a.x >= 0 and a.y >= 0
        for b in placed[i + 1:]:
            assert abs(a.x - b.x) >= NODE_W or abs(a.y - b.y) >= NODE_H, (a, b)
    svg = render_svg(definition)
    assert sorted(re.findall(r'data-edge="([^"]+)"', svg)) == sorted(e["id"] for e in definition["edges"])
    assert len(re.findall(r'data-node="', svg)) == len(definition["nodes"])
    width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())
    assert all(b.right <= width and b.bottom <= height for b in placed)


def test_the_layered_layout_goes_left_to_right_and_keeps_loops_out_of_the_columns():
    content = _without_positions(json.loads((REPO / "processes" / "content-approval.json").read_text()))
    boxes = layout(content)
    for edge in content["edges"]:
        source, target = boxes[edge["source"]], boxes[edge["target"]]
        assert target.x > source.x or (edge["source"], edge["target"]) == ("rework", "editor_review"), edge


def test_the_run_is_marked_by_shape_and_words_not_colour_alone():
    expense = json.loads((REPO / "processes" / "expense-approval.json").read_text())
    snapshot = {"status": "paused", "currentNodeId": "finance_review", "context": {
        "submit": [{"output": {}}], "manager_review": [{"output": {"outcome": "approve"}}],
        "amount_check": [{"output": "high"}], "finance_review": []}}
    svg = render_svg(expense, RunState.of(snapshot, expense))
    assert re.search(r'class="node type-task current" data-node="finance_review">.*?▶ now', svg)
    assert re.search(r'class="node type-task visited" data-node="manager_review">.*?✓ done', svg)
    assert 'class="edge taken" data-edge="e2"' in svg and 'class="edge" data-edge="e3"' in svg
    assert "Now at: Finance review." in svg and "Done: Expense submitted, Manager review, Over 1000?" in svg
    assert 'role="img"' in svg and "<title" in svg
    failed = render_svg(expense, RunState.of({"status": "failed", "currentNodeId": "amount_check", "context": {
        "amount_check": [{"output": None, "error": "boom"}]}}, expense))
    assert re.search(r'class="node type-decision failed" data-node="amount_check">.*?✕ failed', failed)


def test_hostile_labels_are_escaped():
    definition = {"id": "x", "name": "<b>", "nodes": [
        {"id": "s", "type": "start", "metadata": {"label": "<script>alert(1)</script>"}}], "edges": []}
    svg = render_svg(definition)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
