"""The engine's rules that a table cannot express: immutability, branching, time, secrets."""

from __future__ import annotations

import copy
import math

import pytest

from bpm.engine import (
    Context,
    NodeDefinition,
    NodeResult,
    RunLog,
    Snapshot,
    UnknownNodeError,
    WorkflowEngine,
)

from .conftest import chain, node_types


def test_a_step_never_mutates_the_snapshot_it_was_given(make_engine):
    engine = make_engine(chain(("w", "wait"), ("a", "pass", {"x": 1}), ("b", "pass")))
    paused = engine.execute(initial_node_id="w")
    before = copy.deepcopy(paused.to_dict())
    done = engine.execute(snapshot=paused, external_payload={"go": True})
    assert done.status == "completed"
    assert paused.to_dict() == before


def test_two_branches_resumed_from_one_snapshot_never_see_each_other(make_engine):
    loop = chain(("w", "wait"), edges=[{"id": "e", "source": "w", "target": "w"}])
    engine = make_engine(loop)
    base = engine.execute(initial_node_id="w")
    base = engine.execute(snapshot=base, external_payload={"n": 0})
    left = engine.execute(snapshot=base, external_payload={"n": "left"})
    right = engine.execute(snapshot=base, external_payload={"n": "right"})
    left2 = engine.execute(snapshot=left, external_payload={"n": "left-2"})
    assert [r.output for r in base.context["w"]] == [{"n": 0}]
    assert [r.output for r in left.context["w"]] == [{"n": 0}, {"n": "left"}]
    assert [r.output for r in right.context["w"]] == [{"n": 0}, {"n": "right"}]
    assert [r.output for r in left2.context["w"]] == [{"n": 0}, {"n": "left"}, {"n": "left-2"}]


def test_appending_to_the_newest_history_shares_storage_instead_of_copying():
    log = RunLog([], 0)
    grown = log
    for i in range(1000):
        grown = grown.appended(i)  # type: ignore[arg-type]
    assert grown._items is log._items, "each step must append in place, not copy the history"
    fork = log.appended("other")  # type: ignore[arg-type]
    assert fork._items is not log._items and list(fork) == ["other"]
    assert len(grown) == 1000 and grown[999] == 999


def test_version_counts_completed_nodes_only(make_engine):
    engine = make_engine(chain(("a", "pass"), ("w", "wait"), ("f", "retry-fixed")))
    paused = engine.execute(initial_node_id="a")
    assert (paused.status, paused.version) == ("paused", 1)
    errored = engine.execute(snapshot=paused, external_payload={})
    assert (errored.status, errored.version) == ("error", 2)


def test_resuming_an_error_snapshot_reruns_the_node_at_once(make_engine, clock):
    engine = make_engine(chain(("f", "retry-fixed", {"fail_times": 1})))
    errored = engine.execute(initial_node_id="f")
    assert errored.retry_state.next_retry_at == clock.now_ms() + 1000
    done = engine.execute(snapshot=errored)  # no waiting: that is the runner's job
    assert done.status == "completed"


def test_execute_step_runs_one_node_and_resumes_a_paused_snapshot(make_engine):
    engine = make_engine(chain(("w", "wait"), ("a", "pass"), ("b", "pass")))
    paused = engine.execute(initial_node_id="w")
    one = engine.execute_step(paused, external_payload={"k": 1})
    assert (one.status, one.current_node_id, one.version) == ("active", "a", 1)
    two = engine.execute_step(one)
    three = engine.execute_step(two)
    assert (three.status, three.version) == ("completed", 3)
    assert engine.execute_step(three) is three


def test_a_finished_snapshot_is_returned_as_the_same_object(make_engine):
    engine = make_engine(chain(("f", "fail")))
    failed = engine.execute(initial_node_id="f")
    assert failed.status == "failed"
    assert engine.execute(snapshot=failed, external_payload={"x": 1}) is failed


def test_an_unknown_start_node_is_refused(make_engine):
    engine = make_engine(chain(("a", "pass")))
    with pytest.raises(UnknownNodeError, match="'nope'"):
        engine.execute(initial_node_id="nope")


def test_a_snapshot_at_a_node_the_definition_lacks_is_refused(make_engine):
    engine = make_engine(chain(("a", "pass")))
    stray = Snapshot("wf", "paused", "gone", Context())
    with pytest.raises(UnknownNodeError, match="'gone'"):
        engine.execute(snapshot=stray)


@pytest.mark.parametrize("returned, message", [
    ({"data": 1}, "returned dict, not a NodeResult"),
    (NodeResult({1, 2}), "not JSON"),
    (NodeResult({"x": math.nan}), "not a finite number"),
    (NodeResult({1: "a"}), "not a string"),
])
def test_an_executor_that_returns_something_unstorable_fails_its_node(make_engine, returned, message):
    types = node_types(odd=NodeDefinition(lambda d, c, p, g: returned))
    engine = make_engine(chain(("x", "odd")), node_definitions=types)
    failed = engine.execute(initial_node_id="x")
    assert failed.status == "failed"
    assert message in failed.context["x"][0].error


def test_an_executor_cannot_change_the_definition_through_its_data(make_engine):
    def vandal(data, context, payload, globals_):
        data["tags"].append("mutated")
        data["new"] = True
        return NodeResult(data)

    for transforms in (None, []):
        types = node_types(vandal=NodeDefinition(vandal))
        engine = make_engine(chain(("v", "vandal", {"tags": ["a"]})), node_definitions=types,
                             transform_engines=transforms)
        first = engine.execute(initial_node_id="v")
        second = engine.execute(initial_node_id="v")
        assert first.context["v"][0].output == {"tags": ["a", "mutated"], "new": True}
        assert second.context["v"][0].output == first.context["v"][0].output
        assert engine.workflow.nodes[0].data == {"tags": ["a"]}


def test_a_later_change_to_an_executor_output_does_not_reach_the_snapshot(make_engine):
    kept = {"list": [1]}
    types = node_types(leak=NodeDefinition(lambda d, c, p, g: NodeResult(kept)))
    engine = make_engine(chain(("x", "leak")), node_definitions=types)
    snap = engine.execute(initial_node_id="x")
    kept["list"].append(2)
    assert snap.context["x"][0].output == {"list": [1]}


def test_globals_reach_executors_but_never_the_snapshot_or_expressions(make_engine):
    seen = {}

    def use_secret(data, context, payload, globals_):
        seen["token"] = globals_["token"]
        return NodeResult({"called": True, "copied": data.get("copied")})

    types = node_types(api=NodeDefinition(use_secret))
    engine = make_engine(chain(("call", "api", {"copied": "{{ globals.token }}"})), node_definitions=types)
    snap = engine.execute(initial_node_id="call", globals={"token": "s3cret"})
    assert seen["token"] == "s3cret"
    assert b"s3cret" not in snap.to_json()
    assert snap.context["call"][0].output == {"called": True, "copied": None}


def test_expressions_see_globals_only_when_the_transform_engine_exposes_them(clock):
    from bpm.engine import JexlTransformEngine

    engine = WorkflowEngine(chain(("a", "pass", {"v": "{{ globals.region }}"})), node_types(),
                            transform_engines=[JexlTransformEngine(expose_globals=True)], clock=clock)
    snap = engine.execute(initial_node_id="a", globals={"region": "eu"})
    assert snap.context["a"][0].output == {"v": "eu"}


def test_all_time_comes_from_the_injected_clock(make_engine, clock):
    class Slow:
        def __call__(self, data, context, payload, globals_):
            clock.advance(250)
            return NodeResult({})

    types = node_types(slow=NodeDefinition(Slow()))
    engine = make_engine(chain(("a", "slow"), ("b", "slow")), node_definitions=types)
    start = clock.now_ms()
    snap = engine.execute(initial_node_id="a")
    assert [snap.context[n][0].timestamp for n in ("a", "b")] == [start + 250, start + 500]
    assert snap.last_started_at == start + 250
    assert snap.total_execution_time == 250  # Refluxo counts up to the start of the last step


def test_without_transform_engines_data_reaches_the_executor_as_written(make_engine):
    engine = make_engine(chain(("a", "pass", {"v": "{{ 1 + 1 }}"})), transform_engines=[])
    snap = engine.execute(initial_node_id="a")
    assert snap.context["a"][0].output == {"v": "{{ 1 + 1 }}"}


def test_a_custom_error_handler_replaces_the_retry_policy(make_engine, clock):
    class AlwaysTwice:
        def should_retry(self, error, attempt, node, definition):
            return attempt < 2

        def get_retry_delay(self, attempt, node, definition):
            return 42

    engine = make_engine(chain(("f", "fail")), error_handler=AlwaysTwice())
    first = engine.execute(initial_node_id="f")
    assert first.status == "error" and first.retry_state.next_retry_at == clock.now_ms() + 42
    assert engine.execute(snapshot=first).status == "failed"


def test_a_failing_expression_fails_the_node_naming_node_and_expression(make_engine):
    engine = make_engine(chain(("a", "pass", {"title": "x {{ nobody[0] }}"})))
    failed = engine.execute(initial_node_id="a")
    error = failed.context["a"][0].error
    assert failed.status == "failed"
    assert error.startswith("Error: "), "String(error), as Refluxo writes it"
    assert "node 'a'" in error and "nobody[0]" in error and "cannot read [0] of undefined" in error
    assert "data.title" in error


def test_a_snapshot_written_by_refluxos_typescript_engine_loads_and_resumes(make_engine):
    # As the TypeScript engine writes it: sourceHandle undefined is omitted, an error entry
    # from a retried attempt, retryState without nextRetryAt, metadata with pausedReason.
    wire = {
        "workflowId": "wf-ts", "status": "paused", "currentNodeId": "w",
        "context": {"a": [{"output": None, "error": "Error: boom", "timestamp": 1700000000000, "attempt": 1},
                          {"output": {"ok": 1}, "timestamp": 1700000000500, "attempt": 2}]},
        "version": 1, "lastStartedAt": 1700000000500, "totalExecutionTime": 12,
        "metadata": {"pausedReason": "Retry attempt 1"},
    }
    engine = make_engine(chain(("a", "pass"), ("w", "wait"), ("z", "pass", {"got": "{{ a.last.data.ok }}"})))
    snap = Snapshot.from_dict(wire)
    assert snap.to_dict() == wire
    done = engine.execute(snapshot=snap, external_payload={"outcome": "approve"})
    assert done.status == "completed" and done.version == 3
    assert done.context["z"][0].output == {"got": 1}
    assert done.context["a"][0].error == "Error: boom"


def test_an_executor_that_returns_no_data_records_no_output_as_refluxo_does(make_engine):
    types = node_types(quiet=NodeDefinition(lambda data, context, payload, globals_: NodeResult()))
    snap = make_engine(chain(("q", "quiet"), ("after", "pass", {"seen": "{{ nodes.q.output }}", "n": 1})),
                       node_definitions=types).execute(initial_node_id="q")
    assert snap.to_dict()["context"]["q"] == [{"timestamp": 1_700_000_000_000, "attempt": 1}]
    assert snap.context["after"][0].output == {"n": 1}, "an undefined value leaves its key out"


def test_a_failed_node_counts_the_time_its_executor_took(make_engine, clock):
    def slow_failure(data, context, payload, globals_):
        clock.advance(250)
        raise RuntimeError("boom")

    types = node_types(slow=NodeDefinition(slow_failure))
    started = clock.now_ms()
    failed = make_engine(chain(("s", "slow")), node_definitions=types).execute(initial_node_id="s")
    assert (failed.status, failed.last_started_at, failed.total_execution_time) == ("failed", started + 250, 250)
    assert failed.context["s"][0].error == "Error: boom"
