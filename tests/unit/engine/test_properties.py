"""Properties over random definitions and payloads (hypothesis)."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from bpm.engine import STEP_LIMIT_REASON, ManualClock, Snapshot, WorkflowEngine

from .conftest import node_types

HANDLES = [None, "h1", "h2"]
LIMIT = 40

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=4)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8)
payloads = st.none() | st.fixed_dictionaries({"handle": st.sampled_from(HANDLES)}, optional={"v": json_values})


@st.composite
def definitions(draw):
    count = draw(st.integers(1, 6))
    ids = [f"n{i}" for i in range(count)]
    nodes = []
    for node_id in ids:
        kind = draw(st.sampled_from(["pass", "route", "wait", "retry-fixed", "count"]))
        data = {"v": draw(json_values)}
        if kind == "route":
            data["handle"] = draw(st.sampled_from(HANDLES))
        if kind == "retry-fixed":
            data = {"self": node_id, "fail_times": draw(st.integers(0, 4))}
        if kind == "count":
            data = {"counted": draw(st.sampled_from(ids)), "times": draw(st.integers(0, 3))}
        nodes.append({"id": node_id, "type": kind, "data": data})
    edges = [{"id": f"e{i}", "source": draw(st.sampled_from(ids)), "target": draw(st.sampled_from(ids)),
              "sourceHandle": draw(st.sampled_from([*HANDLES, "more", "done"]))}
             for i in range(draw(st.integers(0, 8)))]
    return {"nodes": nodes, "edges": edges}


def _engine(definition):
    return WorkflowEngine(definition, node_types(), clock=ManualClock())


def _run_with_execute(engine, first, resumes, seen):
    snap = engine.execute(initial_node_id="n0", external_payload=first, step_limit=LIMIT)
    seen.append(snap)
    for payload in resumes:
        if snap.finished:
            break
        snap = engine.execute(snapshot=snap, external_payload=payload, step_limit=LIMIT)
        seen.append(snap)
    return snap


def _run_step_by_step(engine, first, resumes):
    snap = engine.initial_snapshot("n0", "default")
    for payload in [first, *resumes]:
        if snap.finished:
            break
        steps = 0
        while steps == 0 or snap.status == "active":
            if steps >= LIMIT:
                return snap._replace(status="failed", metadata={**snap.metadata, "failedReason": STEP_LIMIT_REASON})
            snap = engine.execute_step(snap, external_payload=payload if steps == 0 else None)
            steps += 1
    return snap


@settings(max_examples=150, deadline=None)
@given(definitions(), payloads, st.lists(payloads, max_size=5))
def test_random_runs_keep_every_invariant(definition, first, resumes):
    engine = _engine(definition)
    seen: list[Snapshot] = []
    final = _run_with_execute(engine, first, resumes, seen)
    for snap in seen:
        assert Snapshot.from_dict(snap.to_dict()) == snap
        assert Snapshot.from_json(snap.to_json()) == snap
        completed_runs = sum(1 for log in snap.context.values() for run in log if run.error is None)
        assert snap.version == completed_runs
    assert _run_step_by_step(_engine(definition), first, resumes) == final


@settings(max_examples=100, deadline=None)
@given(definitions(), payloads, payloads)
def test_resuming_never_changes_the_snapshot_resumed_from(definition, first, second):
    engine = _engine(definition)
    snap = engine.execute(initial_node_id="n0", external_payload=first, step_limit=LIMIT)
    before = copy.deepcopy(snap.to_dict())
    engine.execute(snapshot=snap, external_payload=second, step_limit=LIMIT)
    engine.execute(snapshot=snap, external_payload=first, step_limit=LIMIT)
    assert snap.to_dict() == before
