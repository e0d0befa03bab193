"""Table-driven execution semantics: each case in cases/execution.json is a run, call by call."""

from __future__ import annotations

import pytest

from bpm.engine import Snapshot

from .conftest import load_cases

CASES = load_cases("execution.json")


def _check(snapshot: Snapshot, expect: dict, call: int) -> None:
    wire = snapshot.to_dict()
    where = f"after call {call}"
    for key in ("status", "currentNodeId", "version"):
        if key in expect:
            assert wire[key] == expect[key], f"{key} {where}"
    if "retryState" in expect:
        assert wire.get("retryState") == expect["retryState"], where
    for key, value in expect.get("metadata", {}).items():
        assert wire["metadata"].get(key) == value, f"metadata.{key} {where}"
    for node_id, outputs in expect.get("outputs", {}).items():
        assert [run["output"] for run in wire["context"][node_id]] == outputs, f"outputs of {node_id} {where}"
    for node_id, runs in expect.get("runs", {}).items():
        actual = [{k: v for k, v in run.items() if k != "timestamp"} for run in wire["context"][node_id]]
        assert actual == runs, f"runs of {node_id} {where}"
    for node_id in expect.get("absent", []):
        assert node_id not in wire["context"], f"{node_id} should not have run {where}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_execution_case(case, make_engine):
    engine = make_engine(case["definition"])
    snapshot = None
    for number, call in enumerate(case["calls"], start=1):
        kwargs = {"external_payload": call.get("payload"), "step_limit": case.get("stepLimit", 100)}
        if snapshot is None:
            snapshot = engine.execute(initial_node_id=case["start"], workflow_id="wf-1", **kwargs)
        else:
            snapshot = engine.execute(snapshot=snapshot, **kwargs)
        _check(snapshot, call["expect"], number)
        assert Snapshot.from_json(snapshot.to_json()) == snapshot
