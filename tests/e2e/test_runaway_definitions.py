"""A runaway definition fails its own instance, fast, naming the node and the limit; the service goes on."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest

from bpm.runtime import SYSTEM_ACTOR
from bpm.runtime.definitions import import_definition

from ..conftest import EXPENSE


def doubling(key: str, steps: int, kind: str) -> dict:
    """A chain of ``set`` nodes, each doubling the value before it: text by ``+``, a list by nesting."""
    nodes = [{"id": "s", "type": "start"}, {"id": "n0", "type": "set", "data": {"values": {"v": "ab"}}}]
    for i in range(1, steps):
        before = f"nodes.n{i - 1}.output.v"
        value = f"{{{{ {before} + {before} }}}}" if kind == "text" else f"{{{{ [{before}, {before}] }}}}"
        nodes.append({"id": f"n{i}", "type": "set", "data": {"values": {"v": value}}})
    edges = [{"id": f"e{i}", "source": a["id"], "target": b["id"]} for i, (a, b) in enumerate(pairwise(nodes))]
    return {"id": key, "name": key, "nodes": nodes, "edges": edges}


@pytest.mark.parametrize("kind, says", [
    ("text", "text longer than 1,000,000 characters"),
    ("list", "more than 100,000 values"),
])
def test_a_doubling_definition_fails_at_the_node_that_breaks_a_limit(api, rt, kind, says):
    import_definition(rt, SYSTEM_ACTOR, doubling(f"double-{kind}", 60, kind))
    started = api.post("/api/instances", json={"definition": f"double-{kind}", "payload": {}})
    assert started.status_code == 201, started.json
    if started.json["status"] == "active":  # the request's slice ran out: the worker carries on
        _work_until_done(rt)
        started = api.get(f"/api/instances/{started.json['id']}")
    assert started.json["status"] == "failed"
    assert says in started.json["error"] and "node 'n" in started.json["error"], started.json["error"]
    retried = api.as_("admin").post(f"/api/instances/{started.json['id']}/retry")
    assert retried.status_code == 200 and retried.json["status"] == "failed", "the same limit breaks again"


def _work_until_done(rt) -> None:
    from bpm.scheduler import Worker

    worker = Worker(rt)
    for _ in range(50):
        if not worker.tick():
            return


def _start_with_settings(database_url, definition, **settings) -> dict:
    """Publish ``definition`` on an app with these settings, start it, and return the new instance."""
    from bpm.app import create_app
    from bpm.runtime.demo import load_demo

    app = create_app({"database_url": database_url, "dev_identity": True, **settings})
    try:
        load_demo(app.extensions["bpm"])
        import_definition(app.extensions["bpm"], SYSTEM_ACTOR, definition)
        return app.test_client().post("/api/instances", json={"definition": definition["id"], "payload": {}},
                                      headers={"X-BPM-User": "ann"}).json
    finally:
        app.extensions["bpm"].close()


def test_one_output_over_the_output_limit_fails_its_node(database_url):
    started = _start_with_settings(database_url, doubling("big-output", 30, "text"),
                                   max_output_bytes=4096, max_snapshot_bytes=1_000_000)
    assert started["status"] == "failed", started
    assert "over the limit of 4,096 (BPM_MAX_OUTPUT_BYTES)" in started["error"]
    runs = started["snapshot"]["context"]
    failed = [node for node, results in runs.items() if results[-1].get("error")]
    assert len(failed) == 1 and runs[failed[0]][-1]["output"] is None, "the oversized output is not written"


def test_a_snapshot_over_its_limit_fails_the_instance_before_the_step_that_grew_it(database_url):
    started = _start_with_settings(database_url, doubling("big-snapshot", 30, "text"),
                                   max_output_bytes=300_000, max_snapshot_bytes=300_000)
    assert started["status"] == "failed", started
    assert "(BPM_MAX_SNAPSHOT_BYTES)" in started["error"] and "at node 'n" in started["error"]
    assert len(str(started["snapshot"])) < 300_000


def test_a_transaction_over_its_cpu_budget_fails_the_instance(database_url):
    chain = {"id": "busy", "name": "busy", "nodes": [{"id": "s", "type": "start"}] + [
        {"id": f"n{i}", "type": "set", "data": {"values": {"x": "{{ input.values|keys }}" * 50}}}
        for i in range(150)]}
    chain["edges"] = [{"id": f"e{i}", "source": a["id"], "target": b["id"]}
                      for i, (a, b) in enumerate(pairwise(chain["nodes"]))]
    started = _start_with_settings(database_url, chain, transaction_cpu_ms=1)
    assert started["status"] == "failed" and "(BPM_TRANSACTION_CPU_MS)" in started["error"], started


def test_a_normal_start_completes_while_a_hostile_one_is_refused(api, rt):
    import_definition(rt, SYSTEM_ACTOR, doubling("hostile", 60, "list"))
    hostile: dict = {}

    def start_hostile():
        hostile["response"] = api.client.post("/api/instances", json={"definition": "hostile", "payload": {}},
                                              headers={"X-BPM-User": "ann"})

    thread = threading.Thread(target=start_hostile)
    thread.start()
    normal = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE})
    thread.join(timeout=60)
    assert normal.status_code == 201 and normal.json["status"] == "paused"
    assert hostile["response"].status_code == 201 and hostile["response"].json["status"] in ("failed", "active")


def _endless(key: str) -> dict:
    """A loop of a set and a decision that always goes round again: no task, timer or call in it."""
    return {"id": key, "name": key, "nodes": [
        {"id": "s", "type": "start"},
        {"id": "count", "type": "set", "data": {"values": {"n": "{{ 1 + 1 }}"}}},
        {"id": "again", "type": "decision", "data": {"rules": [{"when": "{{ true }}", "handle": "round"}],
                                                     "default": "out"}},
        {"id": "done", "type": "end"}],
        "edges": [{"id": "a", "source": "s", "target": "count"}, {"id": "b", "source": "count", "target": "again"},
                  {"id": "c", "source": "again", "target": "count", "sourceHandle": "round"},
                  {"id": "d", "source": "again", "target": "done", "sourceHandle": "out"}]}


def test_a_loop_without_a_wait_is_warned_at_save_and_stopped_over_the_instance_s_life(database_url, api):
    said = api.as_("dana").post("/api/definitions/validate", json=_endless("endless")).json
    assert any("that no task, timer or call interrupts" in p["message"] and p["severity"] == "warning"
               for p in said["problems"]), said["problems"]
    from bpm.app import create_app
    from bpm.runtime.demo import load_demo

    app = create_app({"database_url": database_url, "dev_identity": True, "max_steps_per_instance": 300,
                      "steps_per_transaction": 40})
    rt = app.extensions["bpm"]
    try:
        load_demo(rt)
        import_definition(rt, SYSTEM_ACTOR, _endless("endless"))
        started = app.test_client().post("/api/instances", json={"definition": "endless", "payload": {}},
                                         headers={"X-BPM-User": "ann"}).json
        assert started["status"] == "active", "the request answers after its slice; the worker goes on"
        _work_until_done(rt)
        ended = app.test_client().get(f"/api/instances/{started['id']}", headers={"X-BPM-User": "admin"}).json
        assert ended["status"] == "failed" and "(BPM_MAX_STEPS_PER_INSTANCE)" in ended["error"], ended["error"]
    finally:
        rt.close()


def test_a_web_request_spends_a_slice_of_engine_time_and_the_worker_the_rest(database_url):
    chain = {"id": "long", "name": "long", "nodes": [{"id": "s", "type": "start"}] + [
        {"id": f"n{i}", "type": "set", "data": {"values": {"x": "{{ input.values|keys }}" * 20}}}
        for i in range(150)] + [{"id": "e", "type": "end"}]}
    chain["edges"] = [{"id": f"e{i}", "source": a["id"], "target": b["id"]}
                      for i, (a, b) in enumerate(pairwise(chain["nodes"]))]
    started = _start_with_settings(database_url, chain, engine_slice_ms=1)
    assert started["status"] == "active" and started["snapshot"]["version"] < 150, "answered after a slice"


def test_a_definition_with_an_oversized_template_is_refused_at_its_path(api):
    huge = "{{ 1 }}" + "x" * 70_000
    body = {**_endless("huge"), "nodes": [{"id": "s", "type": "start"},
                                          {"id": "t", "type": "set", "data": {"values": {"x": huge}}},
                                          {"id": "done", "type": "end"}],
            "edges": [{"id": "a", "source": "s", "target": "t"}, {"id": "b", "source": "t", "target": "done"}]}
    refused = api.as_("dana").post("/api/definitions", json=body)
    assert refused.status_code == 422 and "$.nodes[1].data.values.x" in refused.json["errors"], refused.json


def test_an_admin_cancels_a_runaway_on_the_first_try(database_url):
    """2 of 8 cancels were a 409 while the loop kept moving the revision; the cancel now lands on what it finds."""
    from bpm.app import create_app
    from bpm.runtime.demo import load_demo
    from bpm.scheduler import Worker

    app = create_app({"database_url": database_url, "dev_identity": True, "steps_per_transaction": 5,
                      "max_steps_per_instance": 100_000})
    rt = app.extensions["bpm"]
    try:
        load_demo(rt)
        import_definition(rt, SYSTEM_ACTOR, _endless("runaway"))
        client = app.test_client()
        started = client.post("/api/instances", json={"definition": "runaway", "payload": {}},
                              headers={"X-BPM-User": "ann"}).json
        stop = threading.Event()

        def spin() -> None:
            worker = Worker(rt)
            while not stop.is_set():
                worker.tick()

        spinner = threading.Thread(target=spin)
        spinner.start()
        try:
            answers = [client.post(f"/api/instances/{started['id']}/cancel", json={"reason": "runaway"},
                                   headers={"X-BPM-User": "admin"}).status_code]
        finally:
            stop.set()
            spinner.join()
        assert answers == [200]
        ended = client.get(f"/api/instances/{started['id']}", headers={"X-BPM-User": "admin"}).json
        assert ended["status"] == "cancelled"
    finally:
        rt.close()


def test_an_engine_is_built_in_linear_time_for_a_long_template():
    """The check whether a process reads the request's data backtracked over every {{ of a text: 35 s to build
    the engine of a process with forty 62 KB templates (in the request of whoever started it)."""
    import time

    from bpm.engine import SystemClock, WorkflowEngine
    from bpm.forms import FormRegistry
    from bpm.nodes import build_node_types

    text = "{{ input.values|keys }} " * 2_500
    body = {"id": "long", "name": "long", "nodes": [{"id": "s", "type": "start"}] + [
        {"id": f"n{i}", "type": "set", "data": {"values": {"x": text}}} for i in range(40)]}
    body["edges"] = [{"id": f"e{i}", "source": a["id"], "target": b["id"]}
                     for i, (a, b) in enumerate(pairwise(body["nodes"]))]
    began = time.process_time()
    WorkflowEngine(body, build_node_types(FormRegistry({}), SystemClock()), clock=SystemClock())
    assert time.process_time() - began < 2.0
