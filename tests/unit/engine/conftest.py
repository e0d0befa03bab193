"""Node types and helpers shared by the engine tests: small, real executors, no mocks."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from bpm.engine import ManualClock, NodeDefinition, NodeResult, RetryPolicy, WorkflowEngine

CASES = Path(__file__).parent / "cases"
EXAMPLES = Path(__file__).resolve().parents[3] / "processes"


def load_cases(name: str) -> list[Any]:
    """Read a JSON table of cases from ``cases/``."""
    return json.loads((CASES / name).read_text())


def passthrough(data, context, payload, globals_):
    return NodeResult(data)


def wait(data, context, payload, globals_):
    """Pause until a payload arrives; follow ``payload.handle`` if it names one."""
    if payload is None:
        return NodeResult(pause=True)
    return NodeResult(payload, next_handle=payload.get("handle") if isinstance(payload, dict) else None)


def route(data, context, payload, globals_):
    """Leave by the handle written in the data (after expressions resolved)."""
    return NodeResult(data, next_handle=data.get("handle"))


def count(data, context, payload, globals_):
    """Output how many times ``counted`` ran before, and leave by ``more`` or ``done``."""
    runs = len(context.get(data.get("counted", "it"), ()))
    return NodeResult({"runs": runs}, next_handle="done" if runs >= data.get("times", 3) else "more")


def fail(data, context, payload, globals_):
    """Raise until this node has failed ``fail_times`` times (default: always)."""
    previous = context.get(data.get("self", "f"), ())
    if len(previous) < data.get("fail_times", 10**9):
        raise RuntimeError(data.get("message", "boom"))
    return NodeResult({"recovered": True})


def node_types(**extra: NodeDefinition) -> dict[str, NodeDefinition]:
    """The standard test node types, plus any given."""
    types = {
        "pass": NodeDefinition(passthrough),
        "wait": NodeDefinition(wait),
        "route": NodeDefinition(route),
        "count": NodeDefinition(count),
        "fail": NodeDefinition(fail),
        "retry-fixed": NodeDefinition(fail, retry_policy=RetryPolicy(3, 1000, "fixed")),
        "retry-exp": NodeDefinition(fail, retry_policy=RetryPolicy(4, 1000, "exponential")),
    }
    types.update(extra)
    return types


def chain(*specs: tuple[str, str] | tuple[str, str, Any], edges: list[dict] | None = None) -> dict:
    """A definition from ``(id, type[, data])`` tuples; consecutive nodes linked unless edges given."""
    nodes = [{"id": s[0], "type": s[1], "data": s[2] if len(s) > 2 else {}} for s in specs]
    if edges is None:
        edges = [{"id": f"e{i}", "source": a[0], "target": b[0]}
                 for i, (a, b) in enumerate(pairwise(specs))]
    return {"id": "test", "nodes": nodes, "edges": edges}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000_000)


@pytest.fixture
def make_engine(clock):
    """Build an engine over the standard node types with the test clock."""
    def build(definition: Any, **kwargs: Any) -> WorkflowEngine:
        types = kwargs.pop("node_definitions", None) or node_types()
        return WorkflowEngine(definition, types, clock=clock, **kwargs)
    return build
