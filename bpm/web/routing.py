"""Edges of the process diagram as orthogonal paths that go around the boxes and never share a line.

Boxes stand in columns (the layered layout's, or an editor's positions
grouped by their x-ranges); the free bands between columns are *channels*.
A forward edge leaves its source's right side, runs along one horizontal,
turns once in a channel and enters its target's left side; when its
horizontal would cross a box, it turns in the channel next to its source
instead, or, when both ways are blocked, takes a corridor between the rows.
A loop (an edge back to an earlier column) and an edge within one column
leave from the bottom and run under everything they span.

A label stands where its edge leaves the box, or by its target when the
box has more exits than fit their labels. So that lines stay apart and readable, each side of a box spreads its
edges over separate ports (ordered by where they go, so they do not cross
each other at the box), and the vertical runs that share a channel get
their own tracks (interval colouring: runs whose extents overlap never sit
on the same x).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol


class Rect(Protocol):
    """What the router needs of a box (``bpm.web.diagram.Box``)."""

    id: str
    x: float
    y: float

    @property
    def right(self) -> float: ...

    @property
    def bottom(self) -> float: ...


CLEARANCE = 6  # how near a line may pass a box it does not touch
TRACK_GAP = 10  # the least distance between two vertical runs in a channel
MAX_LABELS_AT_SOURCE = 3  # more exits than this on one side: each label stands by its target instead


@dataclass
class Route:
    """One edge's path: its corner points, and where its label goes."""

    edge_id: str
    points: list[tuple[float, float]]
    label_at: tuple[float, float] = (0.0, 0.0)
    label_anchor: str = "start"

    def path(self) -> str:
        """The points as an SVG path."""
        first, *rest = self.points
        return f"M {first[0]:.0f} {first[1]:.0f} " + " ".join(f"L {x:.0f} {y:.0f}" for x, y in rest)


@dataclass
class _Plan:
    """A route being worked out: which sides and channels it uses, before ports and tracks are fixed."""

    edge_id: str
    source: Rect
    target: Rect
    kind: str  # forward | loop | down | up
    crowded: bool = False  # its source has too many exits on one side for their labels to stand there
    exit_side: str = ""  # a loop's: bottom | right
    entry_side: str = ""  # a loop's: bottom | left
    channels: list[int] = field(default_factory=list)  # channel indexes of its vertical runs, in order
    corridor: float | None = None  # the y of its horizontal run between rows, when it needs one
    exit: tuple[float, float] = (0.0, 0.0)
    entry: tuple[float, float] = (0.0, 0.0)
    tracks: list[float] = field(default_factory=list)  # the x of each vertical run


def channels_of(boxes: Sequence[Rect], margin: float) -> list[tuple[float, float]]:
    """The free vertical bands between the columns of boxes, left to right (plus one on either side)."""
    spans = sorted((b.x, b.right) for b in boxes)
    merged: list[list[float]] = []
    for left, right in spans:
        if merged and left < merged[-1][1] + 2 * CLEARANCE:
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    bands = [(merged[0][0] - margin, merged[0][0])] if merged else []
    bands += [(a[1], b[0]) for a, b in pairwise(merged)]
    if merged:
        bands.append((merged[-1][1], merged[-1][1] + margin))
    return bands


def route_edges(edges: Sequence[Mapping[str, object]], boxes: Mapping[str, Rect], margin: float) -> list[Route]:
    """A route for every edge whose two ends have boxes."""
    placed = list(boxes.values())
    bands = channels_of(placed, margin)
    plans = [_plan(str(e.get("id", "")), boxes[str(e["source"])], boxes[str(e["target"])], placed, bands)
             for e in edges if e.get("source") in boxes and e.get("target") in boxes]
    exits: dict[str, int] = {}
    for plan in plans:
        if plan.kind == "forward":
            exits[plan.source.id] = exits.get(plan.source.id, 0) + 1
    for plan in plans:
        plan.crowded = plan.kind == "forward" and exits[plan.source.id] > MAX_LABELS_AT_SOURCE
    _assign_ports(plans)
    _assign_loop_levels(plans, placed)
    _assign_tracks(plans, bands)
    return [_finish(plan, placed) for plan in plans]


def _blocked(y: float, x1: float, x2: float, boxes: Sequence[Rect], ends: tuple[Rect, Rect]) -> bool:
    """Whether a horizontal line at ``y`` between ``x1`` and ``x2`` would cross a box other than its ends."""
    low, high = min(x1, x2), max(x1, x2)
    first, second = ends
    # By identity, not ==: a dataclass's == compares every field, and this runs for every box and every edge.
    return any(b.y - CLEARANCE < y < b.bottom + CLEARANCE and b.x - CLEARANCE < high and b.right + CLEARANCE > low
               for b in boxes if b is not first and b is not second)


def _band_between(bands: Sequence[tuple[float, float]], left: float, right: float) -> list[int]:
    return [i for i, (a, b) in enumerate(bands) if a >= left - 1 and b <= right + 1]


def _plan(edge_id: str, source: Rect, target: Rect, boxes: Sequence[Rect],
          bands: Sequence[tuple[float, float]]) -> _Plan:
    between = _band_between(bands, source.right, target.x)
    if target.x >= source.right and between:
        plan = _Plan(edge_id, source, target, "forward")
        y1, y2 = source.y + (source.bottom - source.y) / 2, target.y + (target.bottom - target.y) / 2
        last, first = bands[between[-1]], bands[between[0]]
        if not _blocked(y1, source.right, last[0], boxes, (source, target)):
            plan.channels = [between[-1]]
        elif not _blocked(y2, first[1], target.x, boxes, (source, target)):
            plan.channels = [between[0]]
        else:
            plan.channels = [between[0], between[-1]]
            plan.corridor = _corridor((y1 + y2) / 2, first[1], last[0], boxes, (source, target))
        return plan
    if source is not target and abs(target.x - source.x) < 1 and not _column_between(source, target, boxes):
        return _Plan(edge_id, source, target, "down" if target.y > source.y else "up")
    plan = _Plan(edge_id, source, target, "loop")
    # Out of the bottom and back into the bottom, unless a box below is in the way: then round the side.
    plan.exit_side = "right" if _below(source, boxes) or source is target else "bottom"
    plan.entry_side = "left" if _below(target, boxes) else "bottom"
    if plan.exit_side == "right":
        plan.channels.append(next(i for i, (a, _) in enumerate(bands) if a >= source.right - 1))
    if plan.entry_side == "left":
        plan.channels.append(max(i for i, (_, b) in enumerate(bands) if b <= target.x + 1))
    return plan


def _below(box: Rect, boxes: Sequence[Rect]) -> bool:
    """Whether another box stands under ``box`` in its column."""
    return any(b.y >= box.bottom and b.x < box.right and b.right > box.x for b in boxes if b is not box)


def _column_between(source: Rect, target: Rect, boxes: Sequence[Rect]) -> bool:
    top, bottom = min(source.bottom, target.bottom), max(source.y, target.y)
    return any(abs(b.x - source.x) < 1 and top <= b.y < bottom for b in boxes if b not in (source, target))


def _corridor(near: float, x1: float, x2: float, boxes: Sequence[Rect], ends: tuple[Rect, Rect]) -> float:
    """The free y nearest ``near`` for a horizontal run from ``x1`` to ``x2``: between rows, or above them all."""
    candidates = sorted({b.bottom + 2 * CLEARANCE for b in boxes} | {b.y - 2 * CLEARANCE for b in boxes},
                        key=lambda y: abs(y - near))
    for y in candidates:
        if not _blocked(y, x1, x2, boxes, ends):
            return y
    return min(b.y for b in boxes) - 3 * CLEARANCE


def _spread(start: float, length: float, count: int) -> list[float]:
    return [start + length * (i + 1) / (count + 1) for i in range(count)]


def _assign_ports(plans: Sequence[_Plan]) -> None:
    """Spread the edges on each side of each box, ordered so that they leave and arrive without crossing."""
    sides: dict[tuple[str, str], list[tuple[float, _Plan, str]]] = {}
    for plan in plans:
        s, t = plan.source, plan.target
        if plan.kind == "forward":
            sides.setdefault((s.id, "right"), []).append((t.y, plan, "exit"))
            sides.setdefault((t.id, "left"), []).append((s.y, plan, "entry"))
        elif plan.kind == "down":
            sides.setdefault((s.id, "bottom"), []).append((t.x, plan, "exit"))
            sides.setdefault((t.id, "top"), []).append((s.x, plan, "entry"))
        elif plan.kind == "up":
            sides.setdefault((s.id, "top"), []).append((t.x, plan, "exit"))
            sides.setdefault((t.id, "bottom"), []).append((s.x, plan, "entry"))
        else:  # a loop: out of the bottom (or right), back into the bottom (or left)
            sides.setdefault((s.id, plan.exit_side), []).append((t.x - s.x, plan, "exit"))
            sides.setdefault((t.id, plan.entry_side), []).append((s.x - t.x, plan, "entry"))
    for (_, side), users in sides.items():
        users.sort(key=lambda u: (u[0], u[1].edge_id))
        box = users[0][1].source if users[0][2] == "exit" else users[0][1].target
        horizontal = side in ("top", "bottom")
        length = (box.right - box.x) if horizontal else (box.bottom - box.y)
        start = box.x if horizontal else box.y
        for position, (_, plan, end) in zip(_spread(start, length, len(users)), users, strict=True):
            point = {"right": (box.right, position), "left": (box.x, position), "top": (position, box.y),
                     "bottom": (position, box.bottom)}[side]
            if end == "exit":
                plan.exit = point
            else:
                plan.entry = point


def _runs(plan: _Plan) -> list[tuple[int, float, float]]:
    """(channel, from y, to y) of each vertical run of a route, in the order it travels them."""
    if plan.kind == "forward":
        ys = [plan.exit[1], *([plan.corridor] if plan.corridor is not None else []), plan.entry[1]]
        return [(channel, ys[step], ys[step + 1]) for step, channel in enumerate(plan.channels)]
    if plan.kind == "loop":
        runs, depth = [], plan.corridor or 0.0
        if plan.exit_side == "right":
            runs.append((plan.channels[0], plan.exit[1], depth))
        if plan.entry_side == "left":
            runs.append((plan.channels[-1], depth, plan.entry[1]))
        return runs
    return []


def _assign_tracks(plans: Sequence[_Plan], bands: Sequence[tuple[float, float]]) -> None:
    """Give each vertical run in a channel an x of its own where its extent overlaps another's.

    Left to right: runs going down, the one starting lowest first, then runs going up, the one starting
    highest first; so edges leaving or entering one side of a box fan out without crossing each other.
    """
    by_channel: dict[int, list[tuple[tuple[int, float, str], float, float, _Plan, int]]] = {}
    for plan in plans:
        runs = _runs(plan)
        plan.tracks = [0.0] * len(runs)
        for step, (channel, start, end) in enumerate(runs):
            key = (0, -start, plan.edge_id) if end >= start else (1, start, plan.edge_id)
            by_channel.setdefault(channel, []).append((key, min(start, end), max(start, end), plan, step))
    for channel, members in by_channel.items():
        members.sort(key=lambda m: m[0])
        tracks: list[list[tuple[float, float]]] = []
        chosen = []
        for _, low, high, plan, step in members:
            last = tracks[-1] if tracks else None
            if last is not None and all(high + TRACK_GAP <= a or low - TRACK_GAP >= b for a, b in last):
                last.append((low, high))
            else:
                tracks.append([(low, high)])
            chosen.append((len(tracks) - 1, plan, step))
        left, right = bands[channel]
        xs = _spread(left, right - left, len(tracks))
        for track, plan, step in chosen:
            plan.tracks[step] = xs[track]


def _assign_loop_levels(plans: Sequence[_Plan], boxes: Sequence[Rect]) -> None:
    """Loops run under every box they span; loops whose spans overlap run at different depths."""
    loops = sorted((p for p in plans if p.kind == "loop"), key=lambda p: (_span(p)[1] - _span(p)[0], p.edge_id))
    levels: list[list[tuple[float, float]]] = []
    for plan in loops:
        low, high = _span(plan)
        level = next((i for i, used in enumerate(levels)
                      if all(high + TRACK_GAP < a or low - TRACK_GAP > b for a, b in used)), None)
        if level is None:
            levels.append([])
            level = len(levels) - 1
        levels[level].append((low, high))
        under = max((b.bottom for b in boxes if b.x < high and b.right > low), default=plan.exit[1])
        plan.corridor = under + 3 * CLEARANCE + 2 * TRACK_GAP * level


def _span(plan: _Plan) -> tuple[float, float]:
    """The x-extent of a loop: from its target's left to its source's right."""
    return min(plan.target.x, plan.source.x) - CLEARANCE, max(plan.source.right, plan.target.right) + CLEARANCE


def _finish(plan: _Plan, boxes: Sequence[Rect]) -> Route:
    (x1, y1), (x2, y2) = plan.exit, plan.entry
    if plan.kind == "forward":
        points = [(x1, y1)]
        if plan.corridor is None:
            points += [(plan.tracks[0], y1), (plan.tracks[0], y2)]
        else:
            points += [(plan.tracks[0], y1), (plan.tracks[0], plan.corridor), (plan.tracks[1], plan.corridor),
                       (plan.tracks[1], y2)]
        points.append((x2 - 2, y2))
        if plan.crowded:
            return Route(plan.edge_id, points, (x2 - 10, y2 - 4), "end")
        return Route(plan.edge_id, points, (x1 + 4, y1 - 4), "start")
    if plan.kind in ("down", "up"):
        step = 2 if plan.kind == "down" else -2
        middle = (y1 + y2) / 2
        points = [(x1, y1), (x1, middle), (x2, middle), (x2, y2 - step)] if abs(x1 - x2) > 0.5 else \
            [(x1, y1), (x2, y2 - step)]
        return Route(plan.edge_id, points, (x1 + 4, middle), "start")
    depth = plan.corridor or 0.0
    points = [(x1, y1)]
    tracks = list(plan.tracks)
    if plan.exit_side == "right":
        points.append((tracks.pop(0), y1))
    points.append((points[-1][0], depth))
    if plan.entry_side == "left":
        track = tracks.pop(0)
        points += [(track, depth), (track, y2), (x2 - 2, y2)]
    else:
        points += [(x2, depth), (x2, y2 + 2)]
    middle = (points[1][0] + points[-2][0]) / 2 if len(points) > 3 else (x1 + x2) / 2
    return Route(plan.edge_id, points, (middle, depth - 4), "middle")
