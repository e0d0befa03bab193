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
    assert started.json["status"] == "failed"
    assert says in started.json["error"] and "node 'n" in started.json["error"], started.json["error"]
    retried = api.as_("admin").post(f"/api/instances/{started.json['id']}/retry")
    assert retried.status_code == 200 and retried.json["status"] == "failed", "the same limit breaks again"


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
    assert hostile["response"].status_code == 201 and hostile["response"].json["status"] == "failed"
