"""The process diagram: a layout without overlaps, every edge drawn, the run's state in shapes and words."""

from __future__ import annotations

import json
import re
from itertools import pairwise

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


FAN = {"id": "fan", "name": "Fan", "nodes": [
    {"id": "s", "type": "start"}, {"id": "d", "type": "decision"},
    *({"id": f"t{i}", "type": "human-task"} for i in range(5)), {"id": "e", "type": "end"}],
    "edges": [{"id": "a", "source": "s", "target": "d"},
              *({"id": f"d{i}", "source": "d", "target": f"t{i}", "sourceHandle": f"h{i}"} for i in range(5)),
              *({"id": f"x{i}", "source": f"t{i}", "target": "e"} for i in range(5)),
              {"id": "again", "source": "t4", "target": "d", "sourceHandle": "again"},
              {"id": "self", "source": "t2", "target": "t2", "sourceHandle": "retry"},
              {"id": "skip", "source": "s", "target": "e"}]}


def _segments(svg: str) -> dict[str, list[tuple[tuple[float, float], tuple[float, float]]]]:
    found = {}
    for edge_id, path in re.findall(r'data-edge="([^"]+)"><path d="([^"]+)"', svg):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
        points = list(zip(numbers[::2], numbers[1::2], strict=True))
        found[edge_id] = list(pairwise(points))
    return found


def _definitions():
    for path in EXAMPLES:
        definition = json.loads(path.read_text())
        yield path.stem, definition
        yield f"{path.stem} (layered)", _without_positions(definition)
    yield "fan-out with loops", FAN


@pytest.mark.parametrize(("name", "definition"), list(_definitions()), ids=[n for n, _ in _definitions()])
def test_edges_run_around_the_boxes_and_never_share_a_line(name, definition):
    boxes = layout(definition)
    segments = _segments(render_svg(definition))
    ends = {e["id"]: (e["source"], e["target"]) for e in definition["edges"]}
    for edge_id, path in segments.items():
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in path), f"{edge_id}: lines are horizontal or vertical"
        for a, b in path:
            for box in boxes.values():
                if box.id in ends[edge_id]:
                    continue
                inside_x = min(a[0], b[0]) < box.right and max(a[0], b[0]) > box.x
                inside_y = min(a[1], b[1]) < box.bottom and max(a[1], b[1]) > box.y
                assert not (inside_x and inside_y), f"{edge_id} runs through {box.id}"
    lines = [(edge_id, a, b) for edge_id, path in segments.items() for a, b in path if a != b]
    for i, (one, a1, b1) in enumerate(lines):
        for other, a2, b2 in lines[i + 1:]:
            if one == other:
                continue
            if a1[0] == b1[0] == a2[0] == b2[0]:  # both vertical on one x
                overlap = min(max(a1[1], b1[1]), max(a2[1], b2[1])) - max(min(a1[1], b1[1]), min(a2[1], b2[1]))
                assert overlap <= 0, f"{one} and {other} share a vertical line"
            if a1[1] == b1[1] == a2[1] == b2[1]:  # both horizontal on one y
                overlap = min(max(a1[0], b1[0]), max(a2[0], b2[0])) - max(min(a1[0], b1[0]), min(a2[0], b2[0]))
                assert overlap <= 0, f"{one} and {other} share a horizontal line"
