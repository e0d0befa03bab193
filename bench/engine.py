"""Engine throughput: ``python -m bench.engine`` prints steps/s and µs/step per scenario."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from itertools import pairwise

from bpm.engine import NodeDefinition, NodeResult, Snapshot, WorkflowEngine
from bpm.nodes.branches import FORK, JOIN


def _passthrough(data, context, payload, globals_):
    return NodeResult(data)


def _counter(data, context, payload, globals_):
    return NodeResult({"i": len(context.get("it", ()))})


def _loop_check(data, context, payload, globals_):
    done = len(context["it"]) >= data["times"]
    return NodeResult(None, next_handle="done" if done else "again")


def _wait(data, context, payload, globals_):
    return NodeResult(payload) if payload is not None else NodeResult(pause=True)


TYPES = {"pass": NodeDefinition(_passthrough), "counter": NodeDefinition(_counter),
         "check": NodeDefinition(_loop_check), "wait": NodeDefinition(_wait), "fork": FORK, "join": JOIN}


def linear_chain(length: int = 100) -> dict:
    """A straight line of ``length`` pass-through nodes."""
    nodes = [{"id": f"n{i}", "type": "pass", "data": {"i": i}} for i in range(length)]
    edges = [{"id": f"e{i}", "source": f"n{i}", "target": f"n{i + 1}"} for i in range(length - 1)]
    return {"nodes": nodes, "edges": edges}


def iterator_loop(times: int) -> dict:
    """``it`` runs ``times`` times; ``check`` loops back until then."""
    return {"nodes": [{"id": "it", "type": "counter", "data": {}},
                      {"id": "check", "type": "check", "data": {"times": times}},
                      {"id": "end", "type": "pass", "data": {}}],
            "edges": [{"id": "a", "source": "it", "target": "check"},
                      {"id": "b", "source": "check", "target": "it", "sourceHandle": "again"},
                      {"id": "c", "source": "check", "target": "end", "sourceHandle": "done"}]}


def approval_flow() -> dict:
    """Request data, three automatic steps, then two approvals in a row."""
    names = ["submit", "enrich", "check", "route"]
    nodes = [{"id": n, "type": "pass", "data": {"step": n, "amount": 1500, "currency": "EUR"}} for n in names]
    nodes += [{"id": "manager", "type": "wait", "data": {}}, {"id": "finance", "type": "wait", "data": {}}]
    order = [*names, "manager", "finance"]
    edges = [{"id": f"e{i}", "source": a, "target": b} for i, (a, b) in enumerate(pairwise(order))]
    return {"nodes": nodes, "edges": edges}


def expressions_chain(length: int = 100) -> dict:
    """A first node with request data, then nodes whose data holds 5 expressions each."""
    data = {"title": "Expense of {{ submit.last.data.amount }} {{ submit.last.data.currency }}",
            "high": "{{ submit.last.data.amount > 1000 }}",
            "who": "{{ submit.last.data.requester|upper }}",
            "count": "{{ nodes.submit.all|length }}"}
    request = {"amount": 1500, "currency": "EUR", "requester": "ann"}
    nodes = [{"id": "submit", "type": "pass", "data": request}]
    nodes += [{"id": f"x{i}", "type": "pass", "data": data} for i in range(length)]
    edges = [{"id": "e0", "source": "submit", "target": "x0"}]
    edges += [{"id": f"e{i + 1}", "source": f"x{i}", "target": f"x{i + 1}"} for i in range(length - 1)]
    return {"nodes": nodes, "edges": edges}


def wide_fork(branches: int = 100) -> dict:
    """A fork of ``branches`` branches of one pass-through node each, joined again."""
    nodes = [{"id": "f", "type": "fork", "data": {}}, {"id": "j", "type": "join", "data": {"mode": "all"}},
             {"id": "end", "type": "pass", "data": {}}]
    nodes += [{"id": f"b{i}", "type": "pass", "data": {"i": i}} for i in range(branches)]
    edges = [{"id": f"o{i}", "source": "f", "target": f"b{i}"} for i in range(branches)]
    edges += [{"id": f"i{i}", "source": f"b{i}", "target": "j"} for i in range(branches)]
    edges.append({"id": "x", "source": "j", "target": "end"})
    return {"nodes": nodes, "edges": edges}


def fork_loop(times: int) -> dict:
    """A fork of two branches joined again, ``times`` times round a loop."""
    return {"nodes": [{"id": "it", "type": "counter", "data": {}}, {"id": "f", "type": "fork", "data": {}},
                      {"id": "a", "type": "pass", "data": {}}, {"id": "b", "type": "pass", "data": {}},
                      {"id": "j", "type": "join", "data": {}},
                      {"id": "check", "type": "check", "data": {"times": times}},
                      {"id": "end", "type": "pass", "data": {}}],
            "edges": [{"id": "e1", "source": "it", "target": "f"}, {"id": "e2", "source": "f", "target": "a"},
                      {"id": "e3", "source": "f", "target": "b"}, {"id": "e4", "source": "a", "target": "j"},
                      {"id": "e5", "source": "b", "target": "j"}, {"id": "e6", "source": "j", "target": "check"},
                      {"id": "e7", "source": "check", "target": "it", "sourceHandle": "again"},
                      {"id": "e8", "source": "check", "target": "end", "sourceHandle": "done"}]}


def _timed(run: Callable[[], int], min_seconds: float) -> tuple[int, float]:
    steps, started = 0, time.perf_counter()
    while True:
        steps += run()
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return steps, elapsed


def _report(name: str, steps: int, elapsed: float, unit: str = "step") -> float:
    per = elapsed / steps * 1e6
    print(f"{name:<46} {steps / elapsed:>12,.0f} {unit}s/s {per:>9.2f} µs/{unit}")
    return per


def bench_chain(seconds: float) -> None:
    engine = WorkflowEngine(linear_chain(100), TYPES, plugins=[])
    def run() -> int:
        snap = engine.execute(initial_node_id="n0", step_limit=1000)
        assert snap.status == "completed" and snap.version == 100
        return 100
    _report("(a) linear chain of 100 nodes", *_timed(run, seconds))


def bench_loop(times: int, seconds: float) -> float:
    engine = WorkflowEngine(iterator_loop(times), TYPES)
    def run() -> int:
        snap = engine.execute(initial_node_id="it", step_limit=10 * times)
        assert snap.status == "completed", snap.status
        return snap.version
    return _report(f"(b) iterator loop, {times:,} iterations", *_timed(run, seconds))


def bench_pause_resume(seconds: float) -> None:
    engine = WorkflowEngine(approval_flow(), TYPES)
    paused = engine.execute(initial_node_id="submit")
    assert paused.current_node_id == "manager"
    payload = {"outcome": "approve", "data": {"comment": "fine"}, "completedBy": "bob"}
    def run() -> int:
        for _ in range(1000):
            restored = Snapshot.from_json(paused.to_json())
            snap = engine.execute(snapshot=restored, external_payload=payload)
            assert snap.status == "paused" and snap.current_node_id == "finance"
        return 1000
    _report("(c) pause -> JSON round trip -> resume", *_timed(run, seconds), unit="cycle")


def bench_expressions(seconds: float) -> None:
    engine = WorkflowEngine(expressions_chain(100), TYPES)
    def run() -> int:
        snap = engine.execute(initial_node_id="submit", step_limit=1000)
        assert snap.context["x99"][0].output["title"] == "Expense of 1500 EUR"
        return 101
    _report("(d) node data with 5 expressions", *_timed(run, seconds))


def bench_wide_fork(seconds: float) -> float:
    engine = WorkflowEngine(wide_fork(100), TYPES)
    def run() -> int:
        snap = engine.execute(initial_node_id="f", step_limit=1000)
        assert snap.status == "completed" and len(snap.context["j"]) == 1, snap.status
        return snap.version + 99  # every step: 99 arrivals at the join waited, which completes no node
    return _report("(e) fork of 100 branches, joined again", *_timed(run, seconds))


def bench_fork_loop(times: int, seconds: float) -> float:
    engine = WorkflowEngine(fork_loop(times), TYPES)
    def run() -> int:
        snap = engine.execute(initial_node_id="it", step_limit=10 * times)
        assert snap.status == "completed" and snap.joins is None, snap.status
        return snap.version + times  # each pass's first arrival at the join waits, which completes no node
    return _report(f"(f) loop through a fork, {times:,} passes", *_timed(run, seconds))


def main() -> None:
    """Run every scenario and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum time per scenario")
    args = parser.parse_args()
    print(f"{'scenario':<46} {'rate':>18} {'cost':>15}")
    bench_chain(args.seconds)
    small = bench_loop(1_000, args.seconds)
    large = bench_loop(100_000, args.seconds)
    print(f"    per-step cost at 100k / at 1k iterations: {large / small:.2f}x")
    bench_pause_resume(args.seconds)
    bench_expressions(args.seconds)
    chain = bench_loop(1_000, args.seconds)
    wide = bench_wide_fork(args.seconds)
    looped = bench_fork_loop(10_000, args.seconds)
    print(f"    per-step cost, fork of 100 / sequential loop: {wide / chain:.2f}x; "
          f"loop through a fork / sequential loop: {looped / chain:.2f}x (target: within 1.5x)")


if __name__ == "__main__":
    main()
