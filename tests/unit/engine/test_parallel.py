"""Parallel branches in the engine: forks, joins in every mode, loops through forks, and the request's data."""

from __future__ import annotations

from itertools import pairwise, permutations
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpm.engine import ManualClock, NodeDefinition, NodeResult, Snapshot, WorkflowEngine
from bpm.nodes.branches import FORK, JOIN

from .conftest import node_types, passthrough


def start(data, context, payload, globals_):
    return NodeResult(payload or {})


def writer(data, context, payload, globals_):
    """Pause; on resume write the payload into the request's data."""
    if payload is None:
        return NodeResult(pause=True)
    return NodeResult(payload, writes=payload)


TYPES = node_types(fork=FORK, join=JOIN, start=NodeDefinition(start, metadata={"role": "start"}),
                   write=NodeDefinition(writer), end=NodeDefinition(passthrough))


def graph(nodes: list[tuple[str, str, Any]], edges: list[tuple[str, str] | tuple[str, str, str]]) -> dict:
    return {"id": "p", "nodes": [{"id": n, "type": t, "data": d} for n, t, d in nodes],
            "edges": [{"id": f"e{i}", "source": e[0], "target": e[1], "sourceHandle": e[2] if len(e) > 2 else None}
                      for i, e in enumerate(edges)]}


def contract(mode: Any = "all", cancel: bool = False, branches: tuple[str, ...] = ("legal", "finance")) -> dict:
    join = {"mode": mode, **({"cancelRemaining": True} if cancel else {})}
    nodes = [("s", "start", {}), ("f", "fork", {}), *[(b, "wait", {}) for b in branches], ("j", "join", join),
             ("done", "end", {})]
    edges = [("s", "f"), *[("f", b) for b in branches], *[(b, "j") for b in branches], ("j", "done")]
    return graph(nodes, edges)


def round_trip(snap: Snapshot) -> Snapshot:
    again = Snapshot.from_json(snap.to_json())
    assert again.to_dict() == snap.to_dict()
    return again


@pytest.mark.parametrize("order", list(permutations(["legal", "finance", "board"])))
def test_every_branch_pauses_and_the_join_fires_once_whatever_order_they_resume_in(make_engine, order):
    engine = make_engine(contract(branches=("legal", "finance", "board")), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    assert snap.status == "paused" and set(snap.paused_at) == {"legal", "finance", "board"}
    for i, node in enumerate(order):
        snap = round_trip(engine.execute(snapshot=snap, external_payload={"by": node}, resume=node))
        if i < 2:
            assert snap.status == "paused" and node not in snap.paused_at and "j" not in snap.context
    assert snap.status == "completed" and snap.positions is None and snap.joins is None
    assert len(snap.context["j"]) == 1 and snap.context["j"][0].output["of"] == 3
    assert snap.context["j"][0].output["arrived"] == [("legal", "finance", "board").index(n) for n in order]
    assert sorted(snap.context["j"][0].output["arrived"]) == [0, 1, 2]
    assert len(snap.context["done"]) == 1


def test_a_first_join_fires_at_the_first_arrival_and_ignores_the_rest(make_engine):
    engine = make_engine(contract(mode="first"), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    snap = engine.execute(snapshot=snap, external_payload={}, resume="finance")
    assert len(snap.context["j"]) == 1 and len(snap.context["done"]) == 1
    assert snap.status == "paused" and snap.paused_at == ("legal",)  # the other branch still runs
    snap = round_trip(engine.execute(snapshot=snap, external_payload={}, resume="legal"))
    assert snap.status == "completed" and len(snap.context["j"]) == 1 and len(snap.context["done"]) == 1


def test_cancel_remaining_ends_the_other_branches_when_the_join_fires(make_engine):
    engine = make_engine(contract(mode="first", cancel=True), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    snap = engine.execute(snapshot=snap, external_payload={}, resume="legal")
    assert snap.status == "completed" and "finance" not in snap.context
    assert snap.context["j"][0].output == {"arrived": [0], "of": 2, "cancelRemaining": True}


def test_at_least_n_fires_when_n_have_arrived(make_engine):
    engine = make_engine(contract(mode={"atLeast": 2}, cancel=True, branches=("a", "b", "c")),
                         node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    snap = engine.execute(snapshot=snap, external_payload={}, resume="c")
    assert "j" not in snap.context and set(snap.paused_at) == {"a", "b"}
    waiting = [p for p in snap.positions if p.status == "waiting"]
    assert [p.node_id for p in waiting] == ["j"]
    snap = engine.execute(snapshot=snap, external_payload={}, resume="a")
    assert snap.status == "completed" and sorted(snap.context["j"][0].output["arrived"]) == [0, 2]


def inclusive(rules: list[tuple[str, str]], default: str | None) -> dict:
    nodes = [("s", "start", {}), ("f", "fork", {"inclusive": True, "rules": [{"when": w, "handle": h}
                                                                           for w, h in rules], "default": default}),
             ("a", "wait", {}), ("b", "wait", {}), ("c", "wait", {}), ("j", "join", {}), ("done", "end", {})]
    edges = [("s", "f"), ("f", "a", "a"), ("f", "b", "b"), ("f", "c", "c"), ("a", "j"), ("b", "j"), ("c", "j"),
             ("j", "done")]
    return graph(nodes, edges)


@pytest.mark.parametrize(("amount", "taken"), [(10, ["c"]), (600, ["a"]), (6000, ["a", "b"])])
def test_an_inclusive_fork_takes_the_exits_whose_condition_holds_and_the_join_waits_for_those(
        make_engine, amount, taken):
    rules = [("{{ data.amount > 500 }}", "a"), ("{{ data.amount > 5000 }}", "b")]
    engine = make_engine(inclusive(rules, "c"), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={"amount": amount})
    assert sorted(snap.paused_at) == taken
    for node in taken:
        snap = engine.execute(snapshot=snap, external_payload={}, resume=node)
    assert snap.status == "completed" and snap.context["j"][0].output["of"] == len(taken)


def test_an_inclusive_fork_with_nothing_true_and_no_default_fails_the_run(make_engine):
    engine = make_engine(inclusive([("{{ false }}", "a")], None), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    assert snap.status == "failed" and "no condition" in snap.context["f"][-1].error


def test_a_loop_through_a_fork_never_fires_the_join_with_a_branch_of_an_earlier_pass(make_engine):
    """Camunda 7's counting flaw: a late branch of pass 1 must not count as an arrival of pass 2."""
    nodes = [("s", "start", {}), ("f", "fork", {}), ("x", "wait", {}), ("y", "wait", {}),
             ("j", "join", {"mode": "first"}),
             ("again", "route", {"handle": "{{ nodes.f.all|length < 2 ? 'loop' : 'on' }}"}), ("done", "end", {})]
    edges = [("s", "f"), ("f", "x"), ("f", "y"), ("x", "j"), ("y", "j"), ("j", "again"), ("again", "f", "loop"),
             ("again", "done", "on")]
    engine = make_engine(graph(nodes, edges), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    snap = engine.execute(snapshot=snap, external_payload={}, resume="x")  # pass 1 joins at once, loops
    assert len(snap.context["f"]) == 2 and len(snap.context["j"]) == 1
    ys = [p for p in snap.positions if p.node_id == "y"]
    assert [p.forks[-1].fork for p in ys] == ["f#2", "f#1"]  # pass 2's y runs first, pass 1's still waits
    late = snap.positions.index(ys[1])
    snap = snap._replace(positions=(snap.positions[late], *[p for p in snap.positions if p is not ys[1]]))
    snap = engine.execute(snapshot=snap, external_payload={}, resume="y")  # pass 1's y arrives late
    assert len(snap.context["j"]) == 1, "a branch of pass 1 fired the join of pass 2"
    assert "done" not in snap.context
    snap = engine.execute(snapshot=snap, external_payload={}, resume="y")  # pass 2's own y
    assert len(snap.context["j"]) == 2 and len(snap.context["done"]) == 1
    snap = round_trip(engine.execute(snapshot=snap, external_payload={}, resume="x"))  # pass 2's x: ignored
    assert snap.status == "completed" and len(snap.context["j"]) == 2 and snap.joins is None


def test_a_branch_that_ends_before_the_join_leaves_the_run_failed_with_the_reason(make_engine):
    nodes = [("s", "start", {}), ("f", "fork", {}), ("a", "wait", {}), ("b", "end", {}), ("j", "join", {}),
             ("done", "end", {})]
    engine = make_engine(graph(nodes, [("s", "f"), ("f", "a"), ("f", "b"), ("a", "j"), ("j", "done")]),
                         node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    snap = engine.execute(snapshot=snap, external_payload={}, resume="a")
    assert snap.status == "failed" and "can no longer reach it" in snap.metadata["failedReason"]


def test_branches_without_a_join_each_end_and_the_run_completes_after_the_last(make_engine):
    nodes = [("s", "start", {}), ("f", "fork", {}), ("a", "wait", {}), ("b", "wait", {})]
    engine = make_engine(graph(nodes, [("s", "f"), ("f", "a"), ("f", "b")]), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    snap = engine.execute(snapshot=snap, external_payload={}, resume="b")
    assert snap.status == "paused" and snap.paused_at == ("a",)
    snap = engine.execute(snapshot=snap, external_payload={}, resume="a")
    assert snap.status == "completed" and snap.current_node_id is None


def test_a_join_outside_any_fork_lets_its_one_position_through(make_engine):
    engine = make_engine(graph([("s", "start", {}), ("j", "join", {}), ("done", "end", {})],
                               [("s", "j"), ("j", "done")]), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    assert snap.status == "completed" and "positions" not in snap.to_dict()


def test_resuming_a_node_no_branch_waits_at_is_refused(make_engine):
    engine = make_engine(contract(), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    with pytest.raises(Exception, match="no branch"):
        engine.execute(snapshot=snap, external_payload={}, resume="done")


def test_the_request_data_is_the_start_form_with_what_steps_wrote_laid_over(make_engine):
    nodes = [("s", "start", {}), ("w", "write", {}), ("r", "pass", {"title": "{{ data.title }}",
                                                                    "author": "{{ data.author }}"})]
    engine = make_engine(graph(nodes, [("s", "w"), ("w", "r")]), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={"title": "Old", "author": "ann"})
    assert "data" not in snap.to_dict(), "a run that wrote nothing carries no data key"
    snap = round_trip(engine.execute(snapshot=snap, external_payload={"title": "New"}))
    assert snap.to_dict()["data"] == {"title": "New"}
    assert snap.context["r"][0].output == {"title": "New", "author": "ann"}


def test_branches_that_write_the_request_data_see_each_others_writes_in_step_order(make_engine):
    nodes = [("s", "start", {}), ("f", "fork", {}), ("a", "write", {}), ("b", "write", {}), ("j", "join", {}),
             ("r", "pass", {"x": "{{ data.x }}", "y": "{{ data.y }}"})]
    edges = [("s", "f"), ("f", "a"), ("f", "b"), ("a", "j"), ("b", "j"), ("j", "r")]
    engine = make_engine(graph(nodes, edges), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={"x": 0, "y": 0})
    snap = engine.execute(snapshot=snap, external_payload={"x": 1}, resume="b")
    snap = engine.execute(snapshot=snap, external_payload={"y": 2}, resume="a")
    assert snap.context["r"][0].output == {"x": 1, "y": 2}


def test_a_retry_in_one_branch_waits_while_the_others_go_on(make_engine):
    nodes = [("s", "start", {}), ("f", "fork", {}), ("a", "retry-fixed", {"self": "a", "fail_times": 1}),
             ("b", "wait", {}), ("j", "join", {}), ("done", "end", {})]
    edges = [("s", "f"), ("f", "a"), ("f", "b"), ("a", "j"), ("b", "j"), ("j", "done")]
    engine = make_engine(graph(nodes, edges), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    assert snap.status == "error" and snap.retry_state.node_id == "a" and snap.paused_at == ("b",)
    snap = round_trip(engine.execute(snapshot=snap))  # the retry: a recovers and waits at the join
    assert snap.status == "paused" and snap.paused_at == ("b",) and snap.retry_state is None
    snap = engine.execute(snapshot=snap, external_payload={}, resume="b")
    assert snap.status == "completed"


def test_a_step_never_changes_the_snapshot_it_was_given_with_branches(make_engine):
    engine = make_engine(contract(), node_definitions=TYPES)
    snap = engine.execute(initial_node_id="s", external_payload={})
    before = snap.to_json()
    engine.execute(snapshot=snap, external_payload={}, resume="legal")
    assert snap.to_json() == before


def _problems(definition: dict) -> list[tuple[str, str, str]]:
    from bpm.engine import validate_definition
    return [(p.path, p.severity, p.message) for p in validate_definition(definition, TYPES)]


def test_a_sound_parallel_definition_has_no_problem_and_several_fork_edges_are_no_warning():
    assert _problems(contract()) == []


def test_a_fork_with_one_way_out_and_a_join_without_a_fork_are_warned_of():
    one_way = graph([("s", "start", {}), ("f", "fork", {}), ("a", "wait", {}), ("j", "join", {})],
                    [("s", "f"), ("f", "a"), ("a", "j")])
    said = _problems(one_way)
    assert [(path, severity) for path, severity, _ in said] == [("$.nodes[1]", "warning"), ("$.nodes[3]", "warning")]
    assert "runs nothing in parallel" in said[0][2] and "one way in" in said[1][2]
    lone = graph([("s", "start", {}), ("j", "join", {})], [("s", "j")])
    assert "not after any fork" in _problems(lone)[0][2]


def test_an_inclusive_fork_exit_without_an_edge_is_an_error_at_the_rule():
    broken = inclusive([("{{ true }}", "a"), ("{{ true }}", "x")], "y")
    said = _problems(broken)
    assert ("$.nodes[1].data.rules[1].handle", "error") in [(p, s) for p, s, _ in said]
    assert ("$.nodes[1].data.default", "error") in [(p, s) for p, s, _ in said]


def test_portable_validation_names_fork_join_and_data_reads():
    from bpm.engine import validate_definition
    definition = inclusive([("{{ data.amount > 1 }}", "a")], "c")
    said = {p.path: p.message for p in validate_definition(definition, TYPES, portable=True) if p.severity == "warning"}
    assert "not runnable by Refluxo" in said["$.nodes[1].type"] and "not runnable by Refluxo" in said["$.nodes[5].type"]
    assert "'data' is the request's data" in said["$.nodes[1].data.rules[0].when"]
    assert "$.nodes[1].type" not in {p.path for p in validate_definition(definition, TYPES)}, "only when asked"


JOIN_MODES = st.one_of(st.just("all"), st.just("first"), st.integers(1, 4).map(lambda n: {"atLeast": n}))


@settings(max_examples=150, deadline=None)
@given(lengths=st.lists(st.integers(0, 2), min_size=1, max_size=4), mode=JOIN_MODES, cancel=st.booleans(),
       order=st.randoms(use_true_random=False))
def test_any_fork_and_join_completes_once_whatever_order_its_branches_resume_in(lengths, mode, cancel, order):
    nodes = [("s", "start", {}), ("f", "fork", {}),
             ("j", "join", {"mode": mode, **({"cancelRemaining": True} if cancel else {})}), ("done", "end", {})]
    edges = [("s", "f"), ("j", "done")]
    for b, length in enumerate(lengths):
        chain = [f"b{b}w{i}" for i in range(length)] or [f"b{b}p"]
        nodes += [(n, "wait" if length else "pass", {}) for n in chain]
        edges += [("f", chain[0]), *pairwise(chain), (chain[-1], "j")]
    engine = WorkflowEngine(graph(nodes, edges), TYPES, clock=ManualClock(1_700_000_000_000))
    snap = engine.execute(initial_node_id="s", external_payload={})
    for _ in range(20):
        snap = round_trip(snap)
        if snap.status != "paused":
            break
        snap = engine.execute(snapshot=snap, external_payload={}, resume=order.choice(snap.paused_at))
    assert snap.status == "completed", snap.to_dict()
    assert len(snap.context["j"]) == 1 and len(snap.context["done"]) == 1
    assert snap.positions is None and snap.joins is None
